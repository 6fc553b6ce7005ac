// Package localfile opens local files that condasigs reads whole (a
// file:// channel's documents, repodata and package files given on the
// command line, trusted roots, policy and lock files) without blocking on
// FIFOs and without reading devices.
package localfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// ErrNotRegular is Open's error for a FIFO, a device or a socket.
var ErrNotRegular = errors.New("not a regular file (a FIFO, a device or a socket)")

// Open opens path for reading, following symbolic links, if it is a
// regular file or a directory (which callers refuse with their own
// message). The open never blocks (a FIFO would wait for a writer), and
// the check is made on the opened file, so that nothing can be swapped in
// between; a device such as /dev/zero, which would be read without end,
// is refused.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|Nonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		err = ErrNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ErrNoWriter is wrapped by ReadFile's error for a FIFO that no one opened
// for writing in time.
var ErrNoWriter = errors.New("no one opened the FIFO for writing")

// errForeignFIFO is ReadFile's error for another user's FIFO.
var errForeignFIFO = fmt.Errorf("a FIFO of another user: %w", ErrNotRegular)

// errIsDir is ReadFile's error for a directory.
var errIsDir = errors.New("is a directory, not a file")

// ErrTooLarge is wrapped by ReadFile's error for a file longer than its
// cap.
var ErrTooLarge = errors.New("larger than the most that is read of it")

// FIFOWait bounds how long ReadFile waits for a named FIFO's writer to
// open it: a writer started with the reader opens it at once, and a FIFO
// another user planted, which no one writes, is refused soon.
const FIFOWait = 5 * time.Second

// ReadFile reads the whole file at path, at most max bytes: a regular
// file, or a pipe (bash's <(...), a /dev/stdin fed by a pipe, a named
// FIFO), which is read once, as its writer writes it. The open never
// blocks for long: a named FIFO that no writer opens within FIFOWait is
// an error wrapping ErrNoWriter. A FIFO of another user (but root), who
// could hold it open without writing, a device (such as /dev/zero, read
// without end) and a socket are refused with an error wrapping
// ErrNotRegular, a directory too, and a file longer than max bytes with
// one wrapping ErrTooLarge, once max+1 bytes have been read. Errors are
// *fs.PathError values.
func ReadFile(path string, max int64) ([]byte, error) { return readFile(path, max, FIFOWait) }

// readFile is ReadFile, waiting at most wait for a FIFO's writer.
func readFile(path string, max int64, wait time.Duration) ([]byte, error) {
	var f *os.File
	var err error
	fifo := false
	if fi, serr := os.Stat(path); serr == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		// Only a pipe of the user's (bash's <(...), a FIFO they made) is
		// waited for: one another user made, who may hold it open
		// without writing or never open it, is not read at all.
		if !ownFile(fi) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: errForeignFIFO}
		}
		fifo = true
		// A pipe is opened as a program that reads it would: the open
		// waits for a writer (a named FIFO's may come later than this
		// reader; an open that did not wait, then closed, would lose what
		// the writer wrote meanwhile), for at most wait.
		f, err = openFIFO(path, wait)
	} else {
		// Never blocks: a FIFO made at path meanwhile is refused below.
		f, err = os.OpenFile(path, os.O_RDONLY|Nonblock, 0)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case fi.Mode().IsRegular():
	case fi.Mode()&fs.ModeNamedPipe != 0 && fifo:
	case fi.IsDir():
		return nil, &fs.PathError{Op: "read", Path: path, Err: errIsDir}
	default:
		return nil, &fs.PathError{Op: "read", Path: path, Err: ErrNotRegular}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)}
	}
	return b, nil
}
