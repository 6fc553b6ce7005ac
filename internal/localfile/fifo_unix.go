//go:build unix

package localfile

import (
	"os"
	"syscall"
	"time"
)

// openFIFO opens the FIFO at path for reading, waiting at most wait for a
// writer. A reader left waiting in the open is released, by a writer that
// opens the FIFO and closes it at once, so that no goroutine stays blocked.
func openFIFO(path string, wait time.Duration) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.Open(path)
		done <- result{f, err}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.f, r.err
	case <-timer.C:
	}
	// Release the open: a non-blocking open for writing succeeds while a
	// reader waits, and its close makes the reader see end of file.
	if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
	go func() {
		if r := <-done; r.f != nil {
			r.f.Close()
		}
	}()
	return nil, ErrNoWriter
}
