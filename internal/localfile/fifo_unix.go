//go:build unix

package localfile

import (
	"os"
	"syscall"
	"time"
)

// openFIFO opens the FIFO at path, the user's, for reading, waiting at
// most wait for a writer. A reader left waiting in the open is released
// by a writer that opens the FIFO and closes it at once (the user can
// write their own FIFO), so that no goroutine stays blocked.
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

// ownFile reports whether fi belongs to the effective user or to root.
func ownFile(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && (int(st.Uid) == os.Geteuid() || st.Uid == 0)
}
