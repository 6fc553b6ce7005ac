package fetch

import (
	"fmt"

	"github.com/condasigs/condasigs/internal/cachedir"
)

// ErrCacheDirNotPrivate is wrapped by the errors of [PrepareCacheDir] that
// say the directory must not be trusted.
var ErrCacheDirNotPrivate = cachedir.ErrNotPrivate

// PrepareCacheDir makes dir ready to hold a cache whose entries are trusted
// as they are read back (a [NewDirCache] given as condasigs.Options.VerdictCache,
// [Options].RepodataDir, downloads kept to be installed): it checks dir,
// creates it and its missing parents (mode 0700) when it does not exist, and
// checks it again, since in a sticky directory such as /tmp another user
// could have created it in between. Anyone who can write such a directory,
// or replace it or one of its parents, can forge what it returns. Call it
// before using the directory, and use it only on a nil error.
//
// On Unix, the rule is that of OpenSSH's StrictModes. Symbolic links are
// resolved one by one, and every directory on the way is checked:
//   - dir itself, once resolved, must be a directory owned by the
//     effective user, which neither its group nor others can write;
//   - every directory above it, up to the root, must be owned by root or
//     the effective user, and be writable by neither group nor others
//     unless it has the sticky bit (as /tmp has);
//   - every symbolic link on the way must be owned by root or the
//     effective user (in a sticky directory, its owner can replace it).
//
// Entries inside dir are checked as they are read: what others planted
// while it was open to them is never trusted, which is why the fix for a
// directory others can write is to remove it. The check applies to dir
// alone: prepare each subdirectory you give a cache of its own too.
//
// On other platforms (Windows), owners and access lists are not inspected:
// a directory is trusted only when, symbolic links resolved, it lies under
// the user's cache directory ([os.UserCacheDir], on Windows %LocalAppData%).
//
// An error wrapping [ErrCacheDirNotPrivate] means dir must not be trusted;
// it says which path is at fault and what would fix it, and nothing was
// created. Any other error means dir did not exist and could not be created
// (it wraps the error of [os.MkdirAll], e.g. [os.ErrPermission]).
func PrepareCacheDir(dir string) error {
	if err := cachedir.Prepare(dir); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}
