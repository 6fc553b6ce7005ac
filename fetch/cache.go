package fetch

import (
	"context"
	"fmt"

	"github.com/condasigs/condasigs/internal/cachedir"
)

// Cache stores values by key: sidecars by their SHA-256 (Options.Cache),
// or a caller's verdicts. Implementations are safe for concurrent use. A
// cache is an optimisation, never a source of truth: every value read is
// checked by its user (a sidecar is hashed again), so a corrupt entry
// costs a retrieval, not a wrong answer.
type Cache interface {
	// Get returns the value stored under key, or an error wrapping
	// ErrCacheMiss when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores data under key. A reader sees the old value or the new
	// one, never part of either.
	Put(ctx context.Context, key string, data []byte) error
}

// ErrCacheMiss is returned by Cache.Get for a key with no value.
var ErrCacheMiss = cachedir.ErrMiss

// NewDirCache returns a Cache of files in dir, once dir is ready to hold
// a cache whose entries are trusted as they are read back (a verdict
// cache, condasigs.Options.VerdictCache): it checks dir, creates it and
// its missing parents (mode 0700) when it does not exist, and checks it
// again, since in a sticky directory such as /tmp another user could have
// created it in between. Anyone who can write such a directory, or
// replace it or one of its parents, could forge what it returns and turn
// its writes elsewhere.
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
// On other platforms (Windows), owners and access lists are not inspected:
// a directory is trusted only when, symbolic links resolved, it lies under
// the user's cache directory ([os.UserCacheDir], on Windows %LocalAppData%).
//
// On an error the Cache is nil (given as a cache, it means none) and dir
// must not be used: the error says which path is at fault and what would
// fix it, or, when dir did not exist and could not be created, wraps the
// error of [os.MkdirAll] (e.g. [os.ErrPermission]). When the path was found
// unfit before anything was created, nothing was.
//
// Keys are file names made of ASCII letters, digits, '.', '_' and '-' (a
// hex digest, say), spread over subdirectories named by their first two
// characters. Writes go to a private temporary file, synced and renamed
// over the entry, and the rename is synced (on Unix), so concurrent
// processes sharing the directory never see a partial value, and a crash
// leaves the old value or the new.
//
// The cache keeps the directory that was checked: a relative dir is made
// absolute at once, and every Get and Put checks that the directory it
// opens is still private to the user and, when it is not the one last
// checked (dir was removed, and made again or replaced by a link), checks
// dir's path again by the whole rule first; one removed since is
// prepared again by Put. Every file operation is confined to the directory ([os.Root]):
// a symbolic link inside it that points out of it is not followed, so no
// one who can plant one makes a write land, or a read come from,
// elsewhere. On Unix, an entry is read only when it is a regular file of
// the effective user that neither group nor others can write, in a
// subdirectory (not a symbolic link) of the effective user that neither
// group nor others can write; anything else is a miss, and Put refuses to
// write into such a subdirectory. So what another user planted, while the
// directory was open to them, is never read back, which is also why the
// fix for a directory others can write is to remove it. The check applies
// to dir alone: a subdirectory given a cache of its own is checked by its
// own NewDirCache.
func NewDirCache(dir string) (Cache, error) {
	e, err := cachedir.OpenEntries(dir)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return e, nil
}
