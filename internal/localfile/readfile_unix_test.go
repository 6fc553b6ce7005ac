//go:build unix

package localfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/condasigs/condasigs/internal/localfile"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "f")
	if err := os.WriteFile(reg, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := localfile.ReadFile(reg, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile(5 bytes, cap 5) = %q, %v", b, err)
	}
	if _, err := localfile.ReadFile(reg, 4); !errors.Is(err, localfile.ErrTooLarge) {
		t.Errorf("ReadFile(5 bytes, cap 4): %v, want ErrTooLarge", err)
	}
	// A device is never read: /dev/zero would be read without end.
	if _, err := localfile.ReadFile("/dev/zero", 1<<30); !errors.Is(err, localfile.ErrNotRegular) {
		t.Errorf("ReadFile(/dev/zero): %v, want ErrNotRegular", err)
	}
	if _, err := localfile.ReadFile(dir, 10); err == nil {
		t.Error("ReadFile(a directory): no error")
	}
}

// A named FIFO is read as its writer writes it, the writer opening it after
// the reader, as "mkfifo f; producer > f &" does; one that no one opens
// for writing is refused after the wait, and leaves no reader blocked.
func TestReadFileFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	want := bytes.Repeat([]byte("trusted root "), 10000) // more than a pipe's buffer
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // after the reader's open
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		_, err = w.Write(want)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		wrote <- err
	}()
	got, err := localfile.ReadFileWaiting(fifo, 1<<20, 5*time.Second)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile(FIFO): %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, err = localfile.ReadFileWaiting(fifo, 1<<20, 200*time.Millisecond)
	if !errors.Is(err, localfile.ErrNoWriter) {
		t.Errorf("ReadFile(a FIFO no one writes): %v, want ErrNoWriter", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ReadFile(a FIFO no one writes) took %v", d)
	}
	// The reader left in the open was released: a writer that opens
	// without waiting finds no reader.
	deadline := time.Now().Add(2 * time.Second)
	for {
		w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			break // ENXIO: no reader
		}
		w.Close()
		if time.Now().After(deadline) {
			t.Fatal("a reader is still waiting in the FIFO's open")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A pipe whose writer exists already, as bash's <(...) gives.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.Write([]byte("from a pipe")); w.Close() }()
	got, err = localfile.ReadFile(fmt.Sprintf("/dev/fd/%d", r.Fd()), 100)
	if err != nil || string(got) != "from a pipe" {
		t.Errorf("ReadFile(/dev/fd/N of a pipe) = %q, %v", got, err)
	}
}

// A FIFO another user made is not read, nor waited for: they could hold
// it open without writing.
func TestReadFileForeignFIFO(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a FIFO to another user")
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if err := os.Chown(fifo, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := localfile.ReadFileWaiting(fifo, 100, 5*time.Second)
	if !errors.Is(err, localfile.ErrNotRegular) {
		t.Errorf("ReadFile(another user's FIFO): %v, want ErrNotRegular", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ReadFile(another user's FIFO) waited %v", d)
	}
}
