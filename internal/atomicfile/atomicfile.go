// Package atomicfile writes files atomically, with one durability policy for
// every writer of this module: the caches, the pin file, the trusted-root
// export and the kept package downloads.
//
// # Policy
//
// A file is written to a new temporary file in the directory of its final
// name (so that the rename never crosses file systems), named ".tmp-" and 16
// random hexadecimal digits, created exclusively (O_EXCL: no file or link
// already at that name is opened or followed) with mode 0600, so that it is
// private while it is written. Once written, it is given its final mode
// (exactly perm, whatever the umask), synced to stable storage (fsync) and
// closed; then it is renamed over the final name, which replaces a
// symbolic link there rather than writing through it, and the directory is
// synced so that the rename itself survives a crash. Windows cannot sync a
// directory through Go's API: there that last step is skipped, and the
// rename is as durable as the file system makes it. A file system that
// cannot sync a directory (EINVAL, ENOTSUP) is treated the same way.
//
// So a reader sees the old content or the new, never part of either, and
// after a crash finds one of them. A write that fails at any step before the
// rename removes the temporary file and leaves the old content in place.
//
// Every file operation goes through an [os.Root]: names are relative to it,
// and no symbolic link leads out of it, so callers that hold a directory to
// a no-link rule keep it. Checks of what the directory holds (ownership,
// modes, size caps on reads) stay with the callers.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tempPrefix starts the name of every temporary file.
const tempPrefix = ".tmp-"

// Temp is a temporary file being written, to be published under its final
// name by Commit or CommitNew, or removed by Discard. It holds a file
// descriptor until it is closed (by Close, or by those), and never holds
// the root: each method that touches the directory takes it, so that a
// caller may keep many closed Temps waiting without keeping a descriptor
// each. Pass the root Create was given, or one of the same directory. A
// Temp is not safe for concurrent use.
type Temp struct {
	f    *os.File // nil once closed
	tmp  string   // the temporary file's name in the root
	name string   // the final name in the root
	path string   // the final name's path, for messages
	perm fs.FileMode
	err  error // why closing failed, if it did
	done bool  // committed or discarded
}

// Create creates the temporary file of name, a name in root, in name's
// directory, which must exist; perm is the mode the file gets when it is
// closed.
func Create(root *os.Root, name string, perm fs.FileMode) (*Temp, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // never fails
	tmp := filepath.Join(filepath.Dir(name), tempPrefix+hex.EncodeToString(rnd[:]))
	path := filepath.Join(root.Name(), name)
	f, err := root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &Temp{f: f, tmp: tmp, name: name, path: path, perm: perm}, nil
}

// Write writes p at the file's offset.
func (t *Temp) Write(p []byte) (int, error) {
	if t.f == nil {
		return 0, os.ErrClosed
	}
	return t.f.Write(p)
}

// WriteAt writes p at off, e.g. a header filled in once the rest is known.
func (t *Temp) WriteAt(p []byte, off int64) (int, error) {
	if t.f == nil {
		return 0, os.ErrClosed
	}
	return t.f.WriteAt(p, off)
}

// Close gives the file its mode, syncs it and closes it, publishing
// nothing: Commit, CommitNew or Discard follow. Calling it again returns
// the first call's result.
func (t *Temp) Close() error {
	if t.f == nil {
		return t.err
	}
	f := t.f
	t.f = nil
	err := f.Chmod(t.perm)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.err = fmt.Errorf("writing %s: %w", t.path, err)
	}
	return t.err
}

// Commit closes the file if need be and renames it over the final name,
// then syncs the directory. Unless the rename was made, the temporary file
// is removed and what the final name held is left as it was.
func (t *Temp) Commit(root *os.Root) error {
	return t.publish(root, root.Rename)
}

// CommitNew is Commit for a final name that must not exist yet: the file is
// linked to it, never replacing anything there, and the error wraps
// [fs.ErrExist] when something is. The temporary file is removed either
// way.
func (t *Temp) CommitNew(root *os.Root) error {
	return t.publish(root, func(tmp, name string) error {
		err := root.Link(tmp, name)
		if err == nil {
			_ = root.Remove(tmp) // the published name holds the file
		}
		return err
	})
}

func (t *Temp) publish(root *os.Root, move func(tmp, name string) error) error {
	if t.done {
		return fmt.Errorf("writing %s: %w", t.path, os.ErrClosed)
	}
	if err := t.Close(); err != nil {
		t.Discard(root)
		return err
	}
	t.done = true
	if err := move(t.tmp, t.name); err != nil {
		_ = root.Remove(t.tmp)
		return fmt.Errorf("writing %s: %w", t.path, err)
	}
	if err := syncDir(root, filepath.Dir(t.name)); err != nil && !ignoreSyncDir(err) {
		return fmt.Errorf("writing %s: syncing its directory: %w", t.path, err)
	}
	return nil
}

// Discard closes and removes the temporary file, leaving the final name
// alone; with a nil root (one that could not be opened) it only closes it.
// It does nothing after Commit, CommitNew or an earlier Discard, or on a
// nil Temp.
func (t *Temp) Discard(root *os.Root) {
	if t == nil || t.done {
		return
	}
	t.done = true
	if t.f != nil {
		_ = t.f.Close()
		t.f = nil
	}
	if root != nil {
		_ = root.Remove(t.tmp)
	}
}

// WriteFile writes data as name in root, replacing it atomically (see the
// package documentation), with mode perm.
func WriteFile(root *os.Root, name string, data []byte, perm fs.FileMode) error {
	t, err := Create(root, name, perm)
	if err != nil {
		return err
	}
	if _, err := t.Write(data); err != nil {
		t.Discard(root)
		return fmt.Errorf("writing %s: %w", t.path, err)
	}
	return t.Commit(root)
}

// WritePath is WriteFile for a path: the root is path's directory, whose
// own path is followed as the system does, links included. A symbolic
// link at path itself is replaced, not followed.
func WritePath(path string, data []byte, perm fs.FileMode) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer root.Close()
	return WriteFile(root, filepath.Base(path), data, perm)
}

// ignoreSyncDir reports whether a directory sync failed only because the
// file system cannot sync directories.
func ignoreSyncDir(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || isUnsupportedSync(err)
}
