package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs/internal/atomicfile"
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
var ErrCacheMiss = errors.New("fetch: cache miss")

// NewDirCache returns a Cache of files in dir, created on first Put. Keys
// are file names made of ASCII letters, digits, '.', '_' and '-' (a hex
// digest, say), spread over subdirectories named by their first two
// characters. Writes go to a private temporary file, synced and renamed
// over the entry, and the rename is synced (on Unix), so concurrent
// processes sharing the directory never see a partial value, and a crash
// leaves the old value or the new.
//
// Every file operation is confined to the directory ([os.Root]): a
// symbolic link inside it that points out of it is not followed, so no
// one who can plant one makes a write land, or a read come from,
// elsewhere. On Unix, an entry is read only when it is a regular file of
// the effective user that neither group nor others can write, in a
// subdirectory (not a symbolic link) of the effective user that neither
// group nor others can write; anything else is a miss, and Put refuses to
// write into such a subdirectory. So what another user planted, while the
// directory was open to them, is never read back.
//
// Anyone who can write the directory itself, or replace it or a parent,
// controls what it returns and where its writes go (the directory's own
// path, links included, is followed): keep it private to the user, and
// create and check it with [PrepareCacheDir] before use. A sidecar cache,
// hashed on every read, needs no trust in what it returns, but its
// directory must pass too before anything is written to it.
func NewDirCache(dir string) Cache { return dirCache(dir) }

// dirCache is NewDirCache's Cache: its directory.
type dirCache string

// Get reads the entry for key. An entry that does not exist, is not a
// regular file, is larger than 64 MiB or is not private to the
// user (see [NewDirCache]) is a miss: the error wraps [ErrCacheMiss].
func (d dirCache) Get(ctx context.Context, key string) ([]byte, error) {
	if err := d.check(key); err != nil {
		return nil, err
	}
	p := filepath.Join(string(d), key[:2], key)
	root, err := cachedir.OpenRoot(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrCacheMiss
	} else if err != nil {
		return nil, err
	}
	defer root.Close()
	// The open never blocks: the subdirectory is opened as a directory
	// and the entry without waiting for a FIFO's writer.
	f, err := root.OpenFile(filepath.Join(key[:2], key), os.O_RDONLY|nonblock, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrCacheMiss
	} else if err != nil {
		// A symbolic link out of the directory, a file where the
		// subdirectory should be, or one that cannot be read.
		return nil, fmt.Errorf("%w: %s: %v", ErrCacheMiss, p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrCacheMiss, p)
	case fi.Size() > cachedir.MaxEntry:
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCacheMiss, p, cachedir.MaxEntry)
	}
	if err := cachedir.CheckPrivate(fi); err != nil {
		return nil, fmt.Errorf("%w: the entry %s %v", ErrCacheMiss, p, err)
	}
	// The subdirectory, once the entry is open: only the user can replace
	// it in a directory that passes PrepareCacheDir.
	if err := privateSubdir(root, key[:2]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCacheMiss, err)
	}
	// Entries are replaced by rename, never written in place, so the open
	// file keeps the size it had when it was stated.
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, ctx.Err()
}

// Put writes the entry for key atomically. It fails, writing nothing, when
// the key's subdirectory is not private to the user or is a symbolic link.
func (d dirCache) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.check(key); err != nil {
		return err
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	root, err := cachedir.OpenRoot(string(d))
	if err != nil {
		return err
	}
	defer root.Close()
	sub := key[:2]
	if err := root.Mkdir(sub, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := privateSubdir(root, sub); err != nil {
		return fmt.Errorf("fetch: not caching %s: %w", key, err)
	}
	return atomicfile.WriteFile(root, filepath.Join(sub, key), data, 0o600)
}

// privateSubdir checks the subdirectory sub of root: a directory, not a
// symbolic link, private to the user.
func privateSubdir(root *os.Root, sub string) error {
	p := filepath.Join(root.Name(), sub)
	fi, err := root.Lstat(sub)
	switch {
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("the cache subdirectory %s is not a directory (mode %s); remove it (rm -rf %s)", p, fi.Mode(), p)
	}
	if err := cachedir.CheckPrivate(fi); err != nil {
		return fmt.Errorf("the cache subdirectory %s %v; remove it (rm -rf %s): others may have planted entries in it", p, err, p)
	}
	return nil
}

// check rejects a dirCache without a directory and an unsafe key.
func (d dirCache) check(key string) error {
	if d == "" {
		return errors.New("fetch: the directory cache has no directory")
	}
	if !validCacheKey(key) {
		return fmt.Errorf("fetch: cache key %q: use 3 to 200 ASCII letters, digits, '.', '_' or '-', not starting with '.'", key)
	}
	return nil
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
