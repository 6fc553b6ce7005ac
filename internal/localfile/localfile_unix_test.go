//go:build unix

package localfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/condasigs/condasigs/internal/localfile"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "f")
	if err := os.WriteFile(reg, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for path, want := range map[string]error{reg: nil, dir: nil, fifo: localfile.ErrNotRegular, "/dev/zero": localfile.ErrNotRegular} {
		f, _, err := localfile.Open(path) // a FIFO without a writer must not block
		if !errors.Is(err, want) {
			t.Errorf("Open(%s): %v, want %v", path, err, want)
		}
		if f != nil {
			f.Close()
		}
	}
}
