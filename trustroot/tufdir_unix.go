//go:build unix

package trustroot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// nonblock opens FIFOs without waiting for a writer.
const nonblock = syscall.O_NONBLOCK

// nofollow makes an open fail on a symbolic link rather than follow it.
const nofollow = syscall.O_NOFOLLOW

// ownedByRoot reports whether the superuser owns fi.
func ownedByRoot(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}

// checkRootOwned applies OpenSSH's StrictModes rule to a directory that
// the superuser owns, for a user who is not the superuser (see
// checkSharedDir). Such a directory is as safe to read as one's own: only
// root can change it.
func checkRootOwned(dir string) (string, error) {
	euid := uint32(os.Geteuid())
	if euid == 0 {
		return "", fmt.Errorf("%s: not a directory of the superuser's to share", dir)
	}
	return checkSharedDir(dir, 0, euid)
}

// maxLinks bounds the symbolic links followed on the way to a shared
// directory, as the kernel bounds them (Linux's MAXSYMLINKS).
const maxLinks = 40

// checkSharedDir walks dir as given, from the root directory one
// component at a time, as the system follows it ("link/.." is the parent
// of the link's target), and checks everything on the way: every
// directory passed through and every symbolic link must belong to owner
// or to the user euid, and no directory passed through may be writable by
// group or others unless it has the sticky bit (/tmp). The directory the
// path leads to must belong to owner and be writable by neither group nor
// others. A component that belongs to another user, or that others could
// replace, refuses the whole path: its owner could point it elsewhere.
// It returns the directory's physical path, which alone is used after the
// check. In use, owner is root (checkRootOwned); tests give their own
// uid, which is root's when they run as root.
func checkSharedDir(dir string, owner, euid uint32) (string, error) {
	abs := dir
	if !filepath.IsAbs(dir) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		abs = wd + string(filepath.Separator) + dir // not cleaned: see above
	}
	cur := string(filepath.Separator)
	fi, st, err := lstatOwner(cur)
	if err != nil {
		return "", err
	}
	if err := checkPassedDir(cur, dir, fi, st, owner, euid); err != nil {
		return "", err
	}
	rest := pathComponents(abs)
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == ".." {
			cur = filepath.Dir(cur) // checked on the way down
			continue
		}
		next := filepath.Join(cur, name)
		fi, st, err := lstatOwner(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if st.Uid != owner && st.Uid != euid {
				return "", fmt.Errorf("the symbolic link %s, on the way to %s, belongs to uid %d, neither root nor you (uid %d): it could be pointed elsewhere", next, dir, st.Uid, euid)
			}
			if links++; links > maxLinks {
				return "", fmt.Errorf("too many symbolic links on the way to %s", dir)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(target) {
				cur = string(filepath.Separator) // checked first
			}
			rest = append(pathComponents(target), rest...)
			continue
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("%s, on the way to %s, is not a directory", next, dir)
		}
		cur = next
		if len(rest) > 0 {
			if err := checkPassedDir(cur, dir, fi, st, owner, euid); err != nil {
				return "", err
			}
		}
	}
	fi, st, err = lstatOwner(cur)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", cur)
	}
	if st.Uid != owner || fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s belongs to uid %d (mode %s), not to root alone", cur, st.Uid, fi.Mode())
	}
	return cur, nil
}

// checkPassedDir applies checkSharedDir's rule to a directory passed
// through on the way to dir.
func checkPassedDir(p, dir string, fi fs.FileInfo, st *syscall.Stat_t, owner, euid uint32) error {
	if st.Uid != owner && st.Uid != euid || fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s, on the way to %s, belongs to uid %d (mode %s): others could replace what is below it", p, dir, st.Uid, fi.Mode())
	}
	return nil
}

// lstatOwner returns the information of p, not following a link, and its
// owner.
func lstatOwner(p string) (fs.FileInfo, *syscall.Stat_t, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, nil, fmt.Errorf("%s: no owner in the file information", p)
	}
	return fi, st, nil
}

// pathComponents splits a path into its names, leaving out empty ones and
// ".".
func pathComponents(p string) []string {
	var out []string
	for _, s := range strings.Split(p, string(filepath.Separator)) {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

// openRootDir opens dir as an os.Root. The trailing slash makes the open
// fail at once when dir is not a directory: os.OpenRoot would otherwise
// wait for a writer on a FIFO.
func openRootDir(dir string) (*os.Root, error) {
	return os.OpenRoot(dir + "/")
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
