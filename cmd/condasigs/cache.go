package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/cachedir"
)

// cacheSet is what verify-env uses of its cache directory; the zero value
// is no cache at all (--no-cache).
type cacheSet struct {
	sidecars, verdicts fetch.Cache
	repodata           string // kept repodata (fetch.Options.RepodataDir)
}

// cacheSubdirs are the subdirectories of the cache directory that the
// caches use: each is checked before use.
var cacheSubdirs = []string{"verdicts", "repodata", "sidecars"}

// openCacheDir decides how verify-env uses the cache directory dir, and
// returns its caches and the one warning to print about it, if any.
// Verdicts and kept repodata are trusted as they are read back, and
// sidecars are written, so the caches are used only when dir and its
// verdicts, repodata and sidecars subdirectories pass the rule of
// fetch.NewDirCache (cachedir.Prepare for repodata), which creates them
// (mode 0700) when they do not exist and then checks them again, since
// another user may create them first in a sticky directory such as /tmp.
// Otherwise only the user's own sidecars in it are read (they are hashed
// on every read), and nothing is written. A private directory the user
// cannot write is read only, and said so.
func openCacheDir(dir string) (c cacheSet, warning string) {
	// All are checked before any is created.
	for _, sub := range append([]string{""}, cacheSubdirs...) {
		if err := cachedir.Check(filepath.Join(dir, sub)); err != nil {
			return sidecarsOnly(dir), untrusted(err)
		}
	}
	err := cachedir.Prepare(dir)
	switch {
	case errors.Is(err, cachedir.ErrNotPrivate):
		return sidecarsOnly(dir), untrusted(err)
	case err != nil:
		// Nothing to read, and nothing may appear later unchecked.
		cause := err
		if u := errors.Unwrap(err); u != nil {
			cause = u
		}
		return cacheSet{}, fmt.Sprintf("the cache directory %s cannot be created (%v); not using it", dir, cause)
	}
	writable := true
	for _, sub := range cacheSubdirs {
		p := filepath.Join(dir, sub)
		var err error
		switch sub {
		case "verdicts":
			c.verdicts, err = fetch.NewDirCache(p)
		case "sidecars":
			c.sidecars, err = fetch.NewDirCache(p)
		default:
			if err = cachedir.Prepare(p); err == nil {
				c.repodata = p
			}
		}
		switch {
		case errors.Is(err, cachedir.ErrNotPrivate):
			return sidecarsOnly(dir), untrusted(err)
		case err != nil:
			// Missing, in dir, which is private: no one else can make
			// it, and there is nothing in it to read.
			writable = false
		}
	}
	if !writable || !cacheWritable(dir) {
		return c, fmt.Sprintf("the cache directory %s is not writable; reading it only", dir)
	}
	return c, ""
}

// sidecarsOnly is what is used of a cache directory dir that is not
// trusted: the user's own sidecars in it, which need no trust since they
// are hashed on every read, and nothing is written.
func sidecarsOnly(dir string) cacheSet {
	return cacheSet{sidecars: cachedir.ReadOnlyEntries(filepath.Join(dir, "sidecars"))}
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
