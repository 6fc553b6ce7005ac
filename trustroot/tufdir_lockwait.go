//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package trustroot

import (
	"context"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"
)

// lockResult is the outcome of lockedfile.OpenFile.
type lockResult struct {
	f   *lockedfile.File
	err error
}

// lockFile opens and locks the file at path (lockedfile.OpenFile: shared
// if flag opens it read-only, exclusive otherwise), waiting for the lock
// until ctx ends (ctx's error) or wait has passed (an error that wraps
// errLockBusy). These systems offer no attempt that fails at once through
// lockedfile: the wait goes on in a goroutine, and a lock it obtains after
// the return is released at once. flag must not create the file, which
// would then appear after the return.
func lockFile(ctx context.Context, path string, flag int, wait time.Duration) (lockHandle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := make(chan lockResult, 1)
	go func() {
		f, err := lockedfile.OpenFile(path, flag, 0o600)
		done <- lockResult{f, err}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		return r.f, nil
	case <-ctx.Done():
		go release(done)
		return nil, ctx.Err()
	case <-timer.C:
		go release(done)
		return nil, lockBusy(path, wait)
	}
}

// release closes the lock file that a wait given up obtains, if it does.
func release(done <-chan lockResult) {
	if r := <-done; r.f != nil {
		r.f.Close()
	}
}
