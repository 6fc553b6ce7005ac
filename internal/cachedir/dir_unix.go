//go:build unix

package cachedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds the symbolic links followed on the way to a cache
// directory, as the kernel bounds them (Linux's MAXSYMLINKS).
const maxLinks = 40

// dirChecker applies Check's rule to one directory.
type dirChecker struct {
	dir   string // absolute, as given
	uid   uint64 // the effective user
	owner uint64 // who must own dir: the effective user, or root for a shared one
}

func check(dir string) error {
	uid := uint64(os.Geteuid())
	c := dirChecker{dir: dir, uid: uid, owner: uid}
	real, fi, err := c.resolve()
	if err != nil || fi == nil {
		return err
	}
	return c.checkOwn(real, fi)
}

// CheckOwnedBy applies the rule of [Check] to dir, which must exist and
// belong to the user owner instead of the effective user: a directory of
// root's that others may read (a shared cache), whose contents are as safe
// to read as one's own, since only root can change them. Directories and
// links on the way may belong to root, to the effective user or to owner.
// It returns the directory's physical path, which alone should be used
// after the check. On platforms without POSIX owners it always fails.
func CheckOwnedBy(dir string, owner int) (string, error) {
	return checkOwnedBy(dir, uint64(owner), uint64(os.Geteuid()))
}

// checkOwnedBy is CheckOwnedBy for the user uid.
func checkOwnedBy(dir string, owner, uid uint64) (string, error) {
	if dir == "" {
		return "", &Error{Reason: "no directory is given", Fix: "give one"}
	}
	abs, err := absolute(dir)
	if err != nil {
		return "", err
	}
	c := dirChecker{dir: abs, uid: uid, owner: owner}
	real, fi, err := c.resolve()
	if err != nil {
		return "", err
	}
	if fi == nil {
		return "", c.fail(real, fmt.Sprintf("%s does not exist", c.dir), "use an existing directory", fs.ErrNotExist)
	}
	if err := c.checkOwn(real, fi); err != nil {
		return "", err
	}
	return real, nil
}

// trusted reports whether a directory or link on the way may belong to uid.
func (c *dirChecker) trusted(uid uint64) bool { return uid == 0 || uid == c.uid || uid == c.owner }

// resolve follows c.dir from the root one component at a time, checking
// every directory and symbolic link on the way, and returns the directory
// it leads to and its information; nil information when it does not exist.
func (c *dirChecker) resolve() (string, fs.FileInfo, error) {
	cur := string(filepath.Separator)
	fi, err := os.Lstat(cur)
	if err != nil {
		return "", nil, c.uninspectable(cur, err)
	}
	if err := c.checkParent(cur, fi); err != nil {
		return "", nil, err
	}
	rest := components(c.dir)
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == ".." {
			cur = filepath.Dir(cur) // checked on the way down
			continue
		}
		next := filepath.Join(cur, name)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return next, nil, nil // cur, the nearest existing ancestor, is checked
		case err != nil:
			return "", nil, c.uninspectable(next, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			if err := c.checkLink(next, fi); err != nil {
				return "", nil, err
			}
			if links++; links > maxLinks {
				return "", nil, c.fail(next, fmt.Sprintf("too many symbolic links on the way to the cache directory %s", c.dir),
					"use a path with fewer links", nil)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", nil, c.uninspectable(next, err)
			}
			if filepath.IsAbs(target) {
				cur = string(filepath.Separator) // checked first
			}
			rest = append(components(target), rest...)
			continue
		case !fi.IsDir():
			return "", nil, c.fail(next, fmt.Sprintf("%s, on the way to the cache directory %s, is not a directory", next, c.dir),
				"use another path", nil)
		}
		cur = next
		if len(rest) > 0 {
			if err := c.checkParent(cur, fi); err != nil {
				return "", nil, err
			}
		}
	}
	fi, err = os.Lstat(cur)
	if err != nil {
		return "", nil, c.uninspectable(cur, err)
	}
	return cur, fi, nil
}

// components splits a path into its names, leaving out empty ones and ".".
func components(path string) []string {
	var out []string
	for _, s := range strings.Split(path, string(filepath.Separator)) {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

// checkOwn applies the rule for the cache directory itself: a directory of
// the effective user that neither group nor others can write.
func (c *dirChecker) checkOwn(real string, fi fs.FileInfo) error {
	name := c.dir
	if real != c.dir {
		name = fmt.Sprintf("%s (%s)", c.dir, real)
	}
	if !fi.IsDir() {
		return c.fail(real, fmt.Sprintf("the cache directory %s is not a directory", name), "use another path", nil)
	}
	uid, err := owner(fi)
	if err != nil {
		return c.uninspectable(real, err)
	}
	// Others could have planted entries in it, or subdirectories that
	// stay theirs: a chmod would leave those. Removed, it is created again
	// private. Removal is advised only to whoever can remove it (root, or
	// the user for a directory of their own), so that no message tells a
	// user to remove someone else's directory, or "/".
	switch {
	case uid != c.owner && c.owner == c.uid && c.uid == 0:
		return c.fail(real, fmt.Sprintf("the cache directory %s belongs to uid %d, not to you (uid %d)", name, uid, c.uid),
			"remove it (rm -rf "+real+"), or use a directory of your own", nil)
	case uid != c.owner && c.owner == c.uid:
		return c.fail(real, fmt.Sprintf("the cache directory %s belongs to uid %d, not to you (uid %d)", name, uid, c.uid),
			fmt.Sprintf("use a directory of your own, or have its owner (uid %d) remove it", uid), nil)
	case uid != c.owner:
		return c.fail(real, fmt.Sprintf("the directory %s belongs to uid %d, not to uid %d", name, uid, c.owner),
			"use a directory of your own", nil)
	case fi.Mode().Perm()&0o022 != 0 && c.owner == c.uid:
		return c.fail(real, fmt.Sprintf("others can write the cache directory %s (mode %s)", name, fi.Mode()),
			"rm -rf "+real+" (others may have planted entries in it), and let it be created again, private", nil)
	case fi.Mode().Perm()&0o022 != 0:
		return c.fail(real, fmt.Sprintf("others can write the directory %s (mode %s)", name, fi.Mode()),
			"use a directory of your own", nil)
	}
	return nil
}

// checkParent applies the rule for a directory above the cache directory:
// owned by root or the effective user, and writable by no one else unless
// it has the sticky bit.
func (c *dirChecker) checkParent(path string, fi fs.FileInfo) error {
	uid, err := owner(fi)
	if err != nil {
		return c.uninspectable(path, err)
	}
	if !c.trusted(uid) {
		return c.fail(path, fmt.Sprintf("%s, on the way to the cache directory %s, belongs to uid %d, neither root nor you (uid %d)", path, c.dir, uid, c.uid),
			"use a cache directory elsewhere", nil)
	}
	// Whoever could write it could only have replaced what is below it
	// with things of their own, which the check of the cache directory
	// refuses: the mode is the whole fix.
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return c.fail(path, fmt.Sprintf("others can write %s, on the way to the cache directory %s (mode %s, no sticky bit)", path, c.dir, fi.Mode()),
			"chmod go-w "+path+", or use a cache directory elsewhere", nil)
	}
	return nil
}

// checkLink applies the rule for a symbolic link on the way: owned by root
// or the effective user, since in a sticky directory its owner could
// point it elsewhere.
func (c *dirChecker) checkLink(path string, fi fs.FileInfo) error {
	uid, err := owner(fi)
	if err != nil {
		return c.uninspectable(path, err)
	}
	if !c.trusted(uid) {
		return c.fail(path, fmt.Sprintf("the symbolic link %s, on the way to the cache directory %s, belongs to uid %d, neither root nor you (uid %d)", path, c.dir, uid, c.uid),
			"use a cache directory elsewhere", nil)
	}
	return nil
}

// owner returns the user that owns a file.
func owner(fi fs.FileInfo) (uint64, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("no owner in the file information")
	}
	return uint64(st.Uid), nil
}

func (c *dirChecker) uninspectable(path string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // the path is said already
	}
	return c.fail(path, fmt.Sprintf("cannot inspect %s, on the way to the cache directory %s: %v", path, c.dir, cause),
		"make it readable, or use a cache directory elsewhere", err)
}

func (c *dirChecker) fail(path, reason, fix string, err error) error {
	return &Error{Dir: c.dir, Path: path, Reason: reason, Fix: fix, Err: err}
}

// OpenRoot opens dir as an [os.Root]. The trailing slash makes the open
// fail at once when dir is not a directory: os.OpenRoot would otherwise
// wait for a writer on a FIFO.
func OpenRoot(dir string) (*os.Root, error) {
	return os.OpenRoot(strings.TrimRight(dir, "/") + "/")
}

// checkPrivate says why fi, a cache entry or the directory holding it,
// cannot be trusted: it belongs to another user, or group or others can
// write it. Nil means it is private to the effective user.
func checkPrivate(fi fs.FileInfo) error {
	uid, err := owner(fi)
	if err != nil {
		return err
	}
	if me := uint64(os.Geteuid()); uid != me {
		return fmt.Errorf("belongs to uid %d, not to you (uid %d)", uid, me)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("can be written by others (mode %s)", fi.Mode())
	}
	return nil
}

// absolute makes dir absolute without cleaning it: "link/.." is the
// parent of the link's target, as the system reads it, not the directory
// the link is in, and the check must follow the path the system follows.
func absolute(dir string) (string, error) {
	if filepath.IsAbs(dir) {
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return wd + string(filepath.Separator) + dir, nil
}

// sameDir reports whether a and b are one directory.
func sameDir(a, b fs.FileInfo) bool { return os.SameFile(a, b) }
