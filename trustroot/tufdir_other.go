//go:build !unix

package trustroot

import (
	"io/fs"
)

// nofollow is 0 where open has no such flag: the lock file is checked to
// be a regular file before it is opened and after it is locked.
const nofollow = 0

// ownedByRoot is false where files have no POSIX owner.
func ownedByRoot(fs.FileInfo) bool { return false }

// lockPermProblem accepts every lock file here: its mode bits say nothing
// of who may open it, and the cache directory is the user's
// (cachedir.Check).
func lockPermProblem(fs.FileInfo) error { return nil }
