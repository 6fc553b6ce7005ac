package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
var ErrCacheMiss = errors.New("fetch: cache miss")

// MaxCacheEntry bounds what DirCache.Get reads (64 MiB): a larger file is
// treated as corrupt and reported as a miss.
const MaxCacheEntry = 64 << 20

// DirCache is a Cache of files in a directory, created on first Put. Keys
// are file names made of ASCII letters, digits, '.', '_' and '-' (a hex
// digest, say), spread over subdirectories named by their first two
// characters. Writes go to a temporary file renamed over the entry, so
// concurrent processes sharing the directory never see a partial value.
// Anyone who can write the directory controls what it returns: keep it
// private to the user.
type DirCache string

// Get reads the entry for key.
func (d DirCache) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, fi, err := openRegular(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, ErrCacheMiss
	case errors.Is(err, errNotRegular):
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrCacheMiss, p)
	case err != nil:
		return nil, err
	}
	defer f.Close()
	if fi.Size() > MaxCacheEntry {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCacheMiss, p, MaxCacheEntry)
	}
	// Entries are replaced by rename, never written in place, so the open
	// file keeps the size it had when it was stated.
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, ctx.Err()
}

// Put writes the entry for key atomically.
func (d DirCache) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	// No fsync: after a crash an entry may be empty or short, which every
	// reader rejects as corrupt and rebuilds.
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func (d DirCache) path(key string) (string, error) {
	if d == "" {
		return "", errors.New("fetch: DirCache has no directory")
	}
	if !validCacheKey(key) {
		return "", fmt.Errorf("fetch: cache key %q: use 3 to 200 ASCII letters, digits, '.', '_' or '-', not starting with '.'", key)
	}
	return filepath.Join(string(d), key[:2], key), nil
}

func validCacheKey(key string) bool {
	if len(key) < 3 || len(key) > 200 || key[0] == '.' {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
