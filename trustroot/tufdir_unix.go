//go:build unix

package trustroot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// nonblock opens FIFOs without waiting for a writer.
const nonblock = syscall.O_NONBLOCK

// ownedByRoot reports whether the superuser owns fi.
func ownedByRoot(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}

// checkRootOwned applies OpenSSH's StrictModes rule to a directory that
// the superuser owns, for a user who is not the superuser: dir, its
// symbolic links resolved, must be a directory of root that neither group
// nor others can write, and every directory above it must belong to root
// or the effective user and be writable by no one else unless it has the
// sticky bit. Such a directory is as safe to read as one's own: only root
// can change it. It returns the resolved path, which alone is used after
// the check, so that no link on the way can be turned elsewhere.
func checkRootOwned(dir string) (string, error) {
	euid := uint32(os.Geteuid())
	if euid == 0 {
		return "", fmt.Errorf("%s: not a directory of the superuser's to share", dir)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", err
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || !fi.IsDir() {
			return "", fmt.Errorf("%s is not a directory", p)
		}
		writable := fi.Mode().Perm()&0o022 != 0
		if p == real {
			if st.Uid != 0 || writable {
				return "", fmt.Errorf("%s belongs to uid %d (mode %s), not to root alone", p, st.Uid, fi.Mode())
			}
		} else if st.Uid != 0 && st.Uid != euid || writable && fi.Mode()&fs.ModeSticky == 0 {
			return "", fmt.Errorf("%s, above %s, belongs to uid %d (mode %s): others could replace what is below it", p, real, st.Uid, fi.Mode())
		}
		if filepath.Dir(p) == p {
			return real, nil
		}
	}
}

// openRootDir opens dir as an os.Root. The trailing slash makes the open
// fail at once when dir is not a directory: os.OpenRoot would otherwise
// wait for a writer on a FIFO.
func openRootDir(dir string) (*os.Root, error) {
	return os.OpenRoot(dir + "/")
}
