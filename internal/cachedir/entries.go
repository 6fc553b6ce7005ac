package cachedir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/localfile"
)

// ErrMiss is returned by [Entries.Get] for a key with no entry it may
// use; fetch.ErrCacheMiss is this error.
var ErrMiss = errors.New("fetch: cache miss")

// Entries are the files of a cache directory, by key: the Cache of
// fetch.NewDirCache, the shards kept in fetch.Options.RepodataDir, and the
// user's own sidecars that the CLI reads from a cache directory it does
// not trust. Keys are file names made of ASCII letters, digits, '.', '_'
// and '-', spread over subdirectories named by their first two
// characters.
//
// Every file operation is confined to the directory ([os.Root]): a
// symbolic link inside it that points out of it is not followed. An entry
// is read only when it is a regular file of the effective user that
// neither group nor others can write, in a subdirectory (not a symbolic
// link) of the effective user that neither group nor others can write;
// anything else is a miss, and Put writes into no other subdirectory. So
// what another user planted, while the directory was open to them, is
// never read back.
type Entries struct {
	// dir is absolute (see absolute): a later change of the working
	// directory does not move the cache.
	dir string
	// trusted: dir was found fit by [Prepare] (or is a subdirectory of
	// such a directory, made private by the caller). Every Get and Put
	// then checks that the directory it opened is still private to the
	// user, so that a directory made again by another user since (in a
	// sticky directory, once the user's was removed) is not used, and Put
	// writes. Otherwise Put stores nothing.
	trusted bool

	mu sync.Mutex
	// checked is the directory that last passed [Check] by dir's path,
	// nil before the first use. A directory opened by that path that is
	// another one (dir was removed, then made again or replaced by a link,
	// perhaps by another user) is checked again by the whole rule before
	// it is used.
	checked fs.FileInfo
}

// OpenEntries prepares dir with [Prepare] and returns its entries, or the
// error of Prepare.
func OpenEntries(dir string) (*Entries, error) {
	dir = absoluteOr(dir) // first: what is checked is what is used
	if err := Prepare(dir); err != nil {
		return nil, err
	}
	return &Entries{dir: dir, trusted: true}, nil
}

// PrivateEntries returns the entries of dir, which the caller made and
// found private to the user, in a directory that should pass [Prepare]
// (the shards of fetch.Options.RepodataDir).
func PrivateEntries(dir string) *Entries {
	return &Entries{dir: absoluteOr(dir), trusted: true}
}

// ReadOnlyEntries returns the entries of dir, which is not checked and
// need not pass [Check]: Get reads only the user's own private entries,
// for values that are checked anyway as they are read back (sidecars,
// hashed on every read), and Put stores nothing.
func ReadOnlyEntries(dir string) *Entries {
	return &Entries{dir: absoluteOr(dir)}
}

// AbsoluteOr is dir made absolute as the system reads it ("link/.." is
// not cleaned away), or dir when it is empty or cannot be: so that a later
// change of the working directory does not move a checked directory.
func AbsoluteOr(dir string) string { return absoluteOr(dir) }

// absoluteOr is dir made absolute (see absolute), or dir when it is empty
// or cannot be.
func absoluteOr(dir string) string {
	if dir == "" {
		return dir
	}
	abs, err := absolute(dir)
	if err != nil {
		return dir
	}
	return abs
}

// Dir returns the directory of the entries, absolute.
func (e *Entries) Dir() string { return e.dir }

// Get reads the entry for key. An entry that does not exist, is not a
// regular file, is larger than [MaxEntry] or is not private to the user
// (see [Entries]) is a miss: the error wraps [ErrMiss]. So is every entry
// of a trusted directory that is no longer private to the user.
func (e *Entries) Get(ctx context.Context, key string) ([]byte, error) {
	if err := e.check(key); err != nil {
		return nil, err
	}
	p := filepath.Join(e.dir, key[:2], key)
	root, err := e.open()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrMiss
	case errors.Is(err, ErrNotPrivate):
		return nil, fmt.Errorf("%w: %v", ErrMiss, err)
	case err != nil:
		return nil, err
	}
	defer root.Close()
	// The open never blocks: the subdirectory is opened as a directory
	// and the entry without waiting for a FIFO's writer.
	f, err := root.OpenFile(filepath.Join(key[:2], key), os.O_RDONLY|localfile.Nonblock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrMiss
	} else if err != nil {
		// A symbolic link out of the directory, a file where the
		// subdirectory should be, or one that cannot be read.
		return nil, fmt.Errorf("%w: %s: %v", ErrMiss, p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrMiss, p)
	case fi.Size() > MaxEntry:
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrMiss, p, MaxEntry)
	}
	if err := CheckPrivate(fi); err != nil {
		return nil, fmt.Errorf("%w: the entry %s %v", ErrMiss, p, err)
	}
	// The subdirectory, once the entry is open: only the user can replace
	// it in a directory that passes Prepare.
	if err := PrivateSubdir(root, key[:2]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMiss, err)
	}
	// Entries are replaced by rename, never written in place, so the open
	// file keeps the size it had when it was stated.
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, ctx.Err()
}

// Put writes the entry for key atomically: a private temporary file,
// synced and renamed over the entry, the rename synced (on Unix). It
// fails, writing nothing, when the directory is no longer private to the
// user, or the key's subdirectory is not private to the user or is a
// symbolic link. A directory removed since it was opened is prepared
// again ([Prepare]). Entries that are not trusted store nothing.
func (e *Entries) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.check(key); err != nil {
		return err
	}
	if !e.trusted {
		return nil
	}
	root, err := e.open()
	if errors.Is(err, fs.ErrNotExist) {
		if err := Prepare(e.dir); err != nil {
			return err
		}
		root, err = e.open()
	}
	if err != nil {
		return err
	}
	defer root.Close()
	sub := key[:2]
	if err := root.Mkdir(sub, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := PrivateSubdir(root, sub); err != nil {
		return fmt.Errorf("fetch: not caching %s: %w", key, err)
	}
	return atomicfile.WriteFile(root, filepath.Join(sub, key), data, 0o600)
}

// Remove removes the entry for key, if it can.
func (e *Entries) Remove(key string) {
	if !e.trusted || !ValidKey(key) {
		return
	}
	root, err := e.open()
	if err != nil {
		return
	}
	defer root.Close()
	_ = root.Remove(filepath.Join(key[:2], key))
}

// open opens the directory; for trusted entries, only while it is private
// to the user.
func (e *Entries) open() (*os.Root, error) {
	root, err := OpenRoot(e.dir)
	if err != nil || !e.trusted {
		return root, err
	}
	fi, err := root.Stat(".")
	if err == nil {
		if perr := CheckPrivate(fi); perr != nil {
			err = &Error{Dir: e.dir, Path: e.dir,
				Reason: fmt.Sprintf("the cache directory %s %v: it changed since it was checked", e.dir, perr),
				Fix:    "rm -rf " + e.dir + " (others may have planted entries in it), and let it be created again, private"}
		}
	}
	if err == nil {
		err = e.sameAsChecked(fi)
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// sameAsChecked returns nil when opened, the directory that dir's path
// led to, is the one that last passed [Check]; otherwise it checks dir's
// path again, and adopts opened only if the path passes and still leads to
// it. So a cache that outlives its directory never follows what took the
// directory's place (another user's link to elsewhere) unchecked.
func (e *Entries) sameAsChecked(opened fs.FileInfo) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.checked != nil && sameDir(e.checked, opened) {
		return nil
	}
	if err := Check(e.dir); err != nil {
		return err
	}
	now, err := os.Stat(e.dir)
	if err != nil {
		return err
	}
	if !sameDir(now, opened) {
		return &Error{Dir: e.dir, Path: e.dir,
			Reason: fmt.Sprintf("the cache directory %s was replaced while it was checked", e.dir),
			Fix:    "make sure no one else can replace it or its parents"}
	}
	e.checked = opened
	return nil
}

// PrivateSubdir checks the subdirectory sub of root: a directory, not a
// symbolic link, private to the user (see [Entries]).
func PrivateSubdir(root *os.Root, sub string) error {
	p := filepath.Join(root.Name(), sub)
	fi, err := root.Lstat(sub)
	switch {
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("the cache subdirectory %s is not a directory (mode %s); remove it (rm -rf %s)", p, fi.Mode(), p)
	}
	if err := CheckPrivate(fi); err != nil {
		return fmt.Errorf("the cache subdirectory %s %v; remove it (rm -rf %s): others may have planted entries in it", p, err, p)
	}
	return nil
}

// check rejects entries without a directory and an unsafe key.
func (e *Entries) check(key string) error {
	if e.dir == "" {
		return errors.New("fetch: the directory cache has no directory")
	}
	if !ValidKey(key) {
		return fmt.Errorf("fetch: cache key %q: use 3 to 200 ASCII letters, digits, '.', '_' or '-', not starting with '.'", key)
	}
	return nil
}

// ValidKey reports whether key can name an entry: 3 to 200 ASCII letters,
// digits, '.', '_' or '-', not starting with '.'.
func ValidKey(key string) bool {
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
