package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/cachedir"
)

// caches returns the sidecar and verdict caches and the repodata
// directory under dir, or none when dir is empty (caching off). With
// sidecarsOnly (dir is not trusted, see openCacheDir), only the sidecar
// cache, whose entries are hashed on every read and so need no trust, and
// read only: nothing is written to a directory that is not private.
func caches(dir string, sidecarsOnly bool) (sidecars, verdicts fetch.Cache, repodata string) {
	if dir == "" {
		return nil, nil, ""
	}
	sidecars = fetch.NewDirCache(filepath.Join(dir, "sidecars"))
	if sidecarsOnly {
		return readOnlyCache{sidecars}, nil, ""
	}
	return sidecars, fetch.NewDirCache(filepath.Join(dir, "verdicts")), filepath.Join(dir, "repodata")
}

// readOnlyCache reads its Cache and writes nothing.
type readOnlyCache struct{ fetch.Cache }

// Put drops data.
func (readOnlyCache) Put(context.Context, string, []byte) error { return nil }

// cacheSubdirs are the subdirectories of the cache directory that caches
// writes to: each is checked before use.
var cacheSubdirs = []string{"verdicts", "repodata", "sidecars"}

// openCacheDir decides how verify-env uses the cache directory dir, and
// returns the one warning to print about it, if any. Verdicts and kept
// repodata are trusted as they are read back, and sidecars are written,
// so the caches are used only when dir and its verdicts, repodata and
// sidecars subdirectories pass fetch.PrepareCacheDir, which creates them
// (mode 0700) when they do not exist and then checks them again, since
// another user may create them first in a sticky directory such as /tmp.
// Otherwise sidecarsOnly is set: the user's own sidecars in it are read
// (they are hashed on every read) and nothing is written. A private
// directory the user cannot write is read only, and said so.
func openCacheDir(dir string) (sidecarsOnly bool, warning string) {
	// All are checked before any is created.
	for _, sub := range append([]string{""}, cacheSubdirs...) {
		if err := cachedir.Check(filepath.Join(dir, sub)); err != nil {
			return true, untrusted(err)
		}
	}
	err := fetch.PrepareCacheDir(dir)
	switch {
	case errors.Is(err, fetch.ErrCacheDirNotPrivate):
		return true, untrusted(err)
	case err != nil:
		// Nothing to read, and nothing may appear later unchecked.
		cause := err
		if u := errors.Unwrap(err); u != nil {
			cause = u
		}
		return true, fmt.Sprintf("the cache directory %s cannot be created (%v); not using it", dir, cause)
	}
	writable := true
	for _, sub := range cacheSubdirs {
		err := fetch.PrepareCacheDir(filepath.Join(dir, sub))
		switch {
		case errors.Is(err, fetch.ErrCacheDirNotPrivate):
			return true, untrusted(err)
		case err != nil:
			// Missing, in dir, which is private: no one else can make it.
			writable = false
		}
	}
	if !writable || !cacheWritable(dir) {
		return false, fmt.Sprintf("the cache directory %s is not writable; reading it only", dir)
	}
	return false, ""
}

// reasonOf is what a cachedir.Check error says is wrong, without
// the fix it proposes for a cache.
func reasonOf(err error) string {
	var cde *cachedir.Error
	if errors.As(err, &cde) {
		return cde.Reason
	}
	return err.Error()
}

// untrusted is the warning for a cache directory that fails the check.
func untrusted(err error) string {
	reason, fix := err.Error(), "use a private directory, or --no-cache"
	var cde *cachedir.Error
	if errors.As(err, &cde) {
		reason, fix = cde.Reason, cde.Fix
	}
	return fmt.Sprintf("%s: the cache's verdicts and repodata are not used and nothing is written to it; only the sidecars in it that are yours are read (they are hashed on every read); to use them: %s",
		reason, fix)
}

// defaultCacheDir is <user cache dir>/condasigs, beside the TUF cache; empty
// when the platform has none.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "condasigs")
}

// cacheWritable reports whether entries can be written under dir, which
// exists. A read-only cache is still read.
func cacheWritable(dir string) bool {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}
