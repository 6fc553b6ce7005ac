//go:build unix

package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A --trusted-root that is a pipe (bash's <(...), /dev/stdin) is read
// once, by the trusted-root parser: the check for TUF metadata given as a
// trusted root must not drain it first.
func TestTrustedRootFromPipe(t *testing.T) {
	root, err := os.ReadFile(trustedRoot)
	require.NoError(t, err)
	fifo := filepath.Join(t.TempDir(), "root.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = w.Write(root)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		done <- err
		// A second reader of the pipe, which a shell's <(...) would
		// leave waiting for ever, gets end of file instead: the test
		// fails rather than hangs.
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = w.Close()
			} else if !errors.Is(err, syscall.ENXIO) {
				return
			}
		}
	}()
	defer close(stop)
	code, out, errOut := runCLI(t, "verify", "--trusted-root", fifo, "--identity", wfSAN, "--issuer", ghIssuer, "--channel", upstream, fileURL(t))
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)
	require.NoError(t, <-done)
}
