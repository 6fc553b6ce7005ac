//go:build unix

package trustroot

import (
	"fmt"
	"io/fs"
	"syscall"
)

// nofollow makes an open fail on a symbolic link rather than follow it.
const nofollow = syscall.O_NOFOLLOW

// ownedByRoot reports whether the superuser owns fi.
func ownedByRoot(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}

// lockPermProblem refuses a lock file that group or others may open, for
// reading or writing: flock(2) needs no more than a descriptor open for
// reading, and whoever holds one can keep the lock.
func lockPermProblem(fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("group or others may open it (mode %s)", fi.Mode())
	}
	return nil
}
