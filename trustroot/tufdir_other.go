//go:build !unix

package trustroot

import (
	"errors"
	"io/fs"
	"os"
)

// nonblock is 0 where FIFOs cannot block an open.
const nonblock = 0

// nofollow is 0 where open has no such flag: the lock file is checked to
// be a regular file before it is opened and after it is locked.
const nofollow = 0

// ownedByRoot is false where files have no POSIX owner.
func ownedByRoot(fs.FileInfo) bool { return false }

// checkRootOwned refuses every directory where owners are not inspected:
// only those fetch.CheckCacheDir trusts are used.
func checkRootOwned(string) (string, error) {
	return "", errors.New("owners are not inspected on this platform")
}

// openRootDir opens dir as an os.Root: FIFOs do not block an open here.
func openRootDir(dir string) (*os.Root, error) {
	return os.OpenRoot(dir)
}

// lockPermProblem accepts every lock file here: its mode bits say nothing
// of who may open it, and the cache directory is the user's
// (fetch.CheckCacheDir).
func lockPermProblem(fs.FileInfo) error { return nil }
