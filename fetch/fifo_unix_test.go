//go:build unix

package fetch_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/condasigs/condasigs/fetch"
	"github.com/stretchr/testify/assert"
)

// TestOpenFileNotRegular: a FIFO at the path must not block the read.
func TestOpenFileNotRegular(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "x.conda.sigs")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	c := fetch.New(fetch.Options{AllowFile: true})
	done := make(chan error, 1)
	go func() {
		_, err := c.Open(context.Background(), "file://"+filepath.ToSlash(fifo), 100)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, fetch.ErrNotFound)
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
}
