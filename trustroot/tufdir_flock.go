//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package trustroot

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// maxLockPause is the longest pause between two attempts at a lock.
const maxLockPause = 50 * time.Millisecond

// lockFile opens the file at path and locks it with flock(2), as
// lockedfile does on these systems (and so other processes using either
// exclude each other): shared if flag opens it read-only, exclusive
// otherwise. It tries without blocking, again after pauses that grow to
// maxLockPause, until it succeeds, ctx ends (ctx's error) or wait has
// passed (an error that wraps errLockBusy): nothing is left waiting for
// the lock after it returned. flag must not create the file.
func lockFile(ctx context.Context, path string, flag int, wait time.Duration) (lockHandle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		how = syscall.LOCK_SH
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		var lerr error
		if err := rc.Control(func(fd uintptr) { lerr = tryFlock(fd, how) }); err != nil {
			lerr = err
		}
		if lerr == nil {
			return f, nil
		}
		if !errors.Is(lerr, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, &fs.PathError{Op: "flock", Path: path, Err: lerr}
		}
		left := time.Until(deadline)
		if left <= 0 {
			f.Close()
			return nil, lockBusy(path, wait)
		}
		timer := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-timer.C:
		}
		pause = min(2*pause, maxLockPause)
	}
}

// tryFlock applies the flock(2) operation how to fd without blocking.
func tryFlock(fd uintptr, how int) error {
	for {
		err := syscall.Flock(int(fd), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
