package main

import (
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs/fetch"
)

// caches returns the sidecar and verdict caches and the repodata
// directory under dir, or none when dir is empty (caching off). With
// sidecarsOnly, only the sidecar cache, whose entries are hashed on every
// read and so need no trust.
func caches(dir string, sidecarsOnly bool) (sidecars, verdicts fetch.Cache, repodata string) {
	if dir == "" {
		return nil, nil, ""
	}
	sidecars = fetch.DirCache(filepath.Join(dir, "sidecars"))
	if sidecarsOnly {
		return sidecars, nil, ""
	}
	return sidecars, fetch.DirCache(filepath.Join(dir, "verdicts")), filepath.Join(dir, "repodata")
}

// private reports whether dir (and the subdirectories the trusted caches
// use) can be written by its owner alone. Verdicts and kept repodata are
// trusted as they are read back: a directory others can write would let
// them forge verdicts.
func private(dir string) bool {
	for _, d := range []string{dir, filepath.Join(dir, "verdicts"), filepath.Join(dir, "repodata")} {
		fi, err := os.Stat(d)
		if err == nil && fi.Mode().Perm()&0o022 != 0 {
			return false
		}
	}
	return true
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

// cacheWritable reports whether entries can be written under dir. A
// read-only cache is still read.
func cacheWritable(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}
