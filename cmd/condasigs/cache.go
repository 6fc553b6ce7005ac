package main

import (
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs/fetch"
)

// caches returns the sidecar and verdict caches and the repodata
// directory under dir, or none when dir is empty (caching off).
func caches(dir string) (sidecars, verdicts fetch.Cache, repodata string) {
	if dir == "" {
		return nil, nil, ""
	}
	return fetch.DirCache(filepath.Join(dir, "sidecars")), fetch.DirCache(filepath.Join(dir, "verdicts")), filepath.Join(dir, "repodata")
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
