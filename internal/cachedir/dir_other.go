//go:build !unix

package cachedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// check trusts only directories under the user's cache directory:
// owners and access lists are not inspected here.
func check(dir string) error {
	base, err := os.UserCacheDir()
	if err != nil {
		return &Error{Dir: dir, Path: dir,
			Reason: fmt.Sprintf("on %s, who can write the cache directory %s is not checked, and there is no user cache directory to trust instead", runtime.GOOS, dir),
			Fix:    "use no verdict cache", Err: err}
	}
	realBase, err := resolveExisting(base)
	if err != nil {
		return &Error{Dir: dir, Path: base, Reason: fmt.Sprintf("cannot resolve the user cache directory %s", base),
			Fix: "make it readable", Err: err}
	}
	real, err := resolveExisting(dir)
	if err != nil {
		return &Error{Dir: dir, Path: dir, Reason: fmt.Sprintf("cannot resolve the cache directory %s", dir),
			Fix: "make it readable, or use a directory under " + base, Err: err}
	}
	if !within(real, realBase) {
		return &Error{Dir: dir, Path: real,
			Reason: fmt.Sprintf("on %s, who can write a directory is not checked, so only directories under the user cache directory %s are trusted, not %s", runtime.GOOS, base, real),
			Fix:    "use a directory under " + base}
	}
	return nil
}

// resolveExisting resolves the symbolic links of the longest existing
// prefix of the absolute path p and appends the rest, which does not exist.
func resolveExisting(p string) (string, error) {
	var rest []string
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		parent := filepath.Dir(p)
		if !errors.Is(err, fs.ErrNotExist) || parent == p {
			return "", err
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// within reports whether p is base or lies under it; both are clean and
// absolute. filepath.Rel compares names as the platform does (without case
// on Windows).
func within(p, base string) bool {
	rel, err := filepath.Rel(base, p)
	if err != nil || filepath.IsAbs(rel) {
		return false
	}
	return rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// OpenRoot opens dir as an [os.Root]: FIFOs do not block an open here.
func OpenRoot(dir string) (*os.Root, error) {
	return os.OpenRoot(dir)
}

// checkPrivate accepts every file: owners and access lists are not
// inspected on these platforms (see Check).
func checkPrivate(fs.FileInfo) error {
	return nil
}

// CheckOwnedBy refuses every directory: owners are not inspected on these
// platforms, so no directory of another user can be trusted.
func CheckOwnedBy(dir string, owner int) (string, error) {
	return "", &Error{Dir: dir, Path: dir,
		Reason: fmt.Sprintf("on %s, who owns the directory %s is not checked", runtime.GOOS, dir),
		Fix:    "use a directory of your own"}
}

// absolute makes dir absolute as the system reads it: on Windows, Win32
// removes ".." from a path's text before it follows a junction, and a
// rooted path without a drive (`\x`) is on the current drive, so
// filepath.Abs (GetFullPathName) gives the path the system will use, and
// the check follows that one.
func absolute(dir string) (string, error) { return filepath.Abs(dir) }

// sameDir is true: on these platforms the check is by path alone (see
// check), and a directory opened by its path is the path's.
func sameDir(a, b fs.FileInfo) bool { return true }
