package trustroot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/localfile"
)

// cacheMode is how a TUF source uses its repository's cache directory.
type cacheMode int

const (
	// cacheNone keeps everything in memory.
	cacheNone cacheMode = iota
	// cacheReadOnly never writes: updates are kept in memory, and the
	// cache is read (and verified) when the repository is unreachable, or
	// offline.
	cacheReadOnly
	// cacheReadWrite updates the cache.
	cacheReadWrite
)

// errReadOnly marks a directory whose mode denies its owner writing.
var errReadOnly = errors.New("read-only")

// errRootOwned marks a cache of root's, which another user only reads.
var errRootOwned = errors.New("it belongs to root")

// cacheDir is a repository's cache directory, checked and opened for one
// load: everything read or written in it goes through root.
type cacheDir struct {
	// path is the directory's physical path (symbolic links resolved),
	// the one given to go-tuf.
	path string
	root *os.Root
	// mode is cacheReadOnly or cacheReadWrite.
	mode cacheMode
	// shared is set for a directory of root's, read-only to this user
	// (checkRootOwned).
	shared bool
	// locked is the lock file, held while the directory is used (nil:
	// not locked).
	locked lockHandle
}

// openCache decides how the cache directory dir (under base) can be used,
// creating both, private, when dir does not exist. A cache that is not
// private to the user (cachedir.Check) is not used at all, unless it
// belongs to root, which makes it read-only to others. One that exists
// but cannot be written is read-only; so is one whose mode denies its
// owner writing (chmod a-w), which the superuser could write but must not.
func openCache(base, dir string) (cacheMode, error) {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if st, err := os.Stat(base); err == nil && st.IsDir() && st.Mode().Perm()&0o200 == 0 {
			return cacheNone, fmt.Errorf("%s: %w (mode %v)", base, errReadOnly, st.Mode().Perm())
		}
	}
	c, err := openDir(base, dir, cacheReadWrite)
	if err != nil {
		return cacheNone, err
	}
	defer c.close()
	if c.shared {
		return cacheReadOnly, fmt.Errorf("%s: %w", c.path, errRootOwned)
	}
	if err := c.probeWritable(); err != nil {
		return cacheReadOnly, err
	}
	return cacheReadWrite, nil
}

// openDir checks the cache directory dir (under base) and opens it, to be
// used as mode says: with cacheReadWrite, base and dir are created,
// private, when missing (cachedir.Prepare). A directory of root's
// that another user may read (checkRootOwned) opens read-only.
func openDir(base, dir string, mode cacheMode) (*cacheDir, error) {
	check := cachedir.Check
	if mode == cacheReadWrite {
		check = cachedir.Prepare
	}
	err := check(base)
	if err == nil {
		err = check(dir)
	}
	var real string
	shared := false
	if err == nil {
		if real, err = filepath.EvalSymlinks(dir); err == nil {
			real, err = filepath.Abs(real)
		}
	} else if path, rerr := checkRootOwned(dir); rerr == nil {
		real, err, mode, shared = path, nil, cacheReadOnly, true
	}
	if err != nil {
		return nil, err
	}
	r, err := cachedir.OpenRoot(real)
	if err != nil {
		return nil, err
	}
	// The directory opened is the one checked: no one but the user and
	// root could have changed it since.
	fi, err := r.Stat(".")
	if err == nil {
		err = checkEntry(fi)
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", real, err)
	}
	return &cacheDir{path: real, root: r, mode: mode, shared: shared}, nil
}

// close releases the directory and its lock; a nil cacheDir is none.
func (c *cacheDir) close() {
	if c != nil {
		if c.locked != nil {
			c.locked.Close()
			c.locked = nil
		}
		c.root.Close()
	}
}

// lockName is the lock file of a repository's cache directory. Updates
// that write the cache hold it exclusively, from before the first file
// is removed until the last is written; reads of the cache, and updates
// that do not write it, hold it shared. So two processes sharing a cache
// never see, or write over, half an update of the other. It is no
// metadata file (not <role>.json): the cache checks leave it alone.
const lockName = "lock"

// lockWait bounds the wait for the lock of a repository's cache. The
// lock file may be held for good, by a process that hangs or by anyone
// who can open it (a cache of root's shared with the machine's users), and
// a source's context may never end (NewTUF's lives as long as the source).
const lockWait = 5 * time.Second

// errLockBusy marks a lock that another process held for longer than
// lockWait.
var errLockBusy = errors.New("locked by another process")

// lockHandle is a locked lock file: closing it releases the lock.
type lockHandle interface {
	Stat() (fs.FileInfo, error)
	Close() error
}

// lock locks the directory until close: exclusively if it is written,
// creating the lock file (private, mode 0600) when missing; shared
// otherwise. A lock file that is no private regular file of the user's,
// or that group or others could open (privateLockFile), is removed first
// from a cache that is written, and none is ever followed if it is a
// link. A cache that is not written is read without a lock when its lock
// file is missing, unusable or cannot be opened (a cache of root's, whose
// lock file only root opens): there is nothing there to create it, and
// its files are still replaced whole.
//
// The wait for the lock ends with ctx, whose error is then returned, or
// after lockWait, with an error that wraps errLockBusy: a cache that is
// not written is then read without the lock, as above; cacheForUpdate
// then reads a cache that was to be written in the same way, and updates
// in memory from it, rather than write beside another writer or go on
// without the cache's baseline.
func (c *cacheDir) lock(ctx context.Context) error {
	if c.writable() {
		return c.lockExclusive(ctx)
	}
	fi, err := c.root.Lstat(lockName)
	if err != nil || lockFileProblem(fi, checkEntry) != nil {
		return nil
	}
	f, err := lockFile(ctx, filepath.Join(c.path, lockName), os.O_RDONLY|nofollow|nonblock, lockWait)
	if errors.Is(err, errLockBusy) {
		return err
	}
	if err != nil {
		return ctx.Err()
	}
	if !c.isLockFile(f, checkEntry) {
		f.Close()
		return nil
	}
	c.locked = f
	return nil
}

// maxLockAttempts bounds the attempts to lock a lock file that another
// process replaces each time.
const maxLockAttempts = 3

// lockExclusive locks the lock file of a cache that is written, as lock
// says.
func (c *cacheDir) lockExclusive(ctx context.Context) error {
	for range maxLockAttempts {
		if fi, err := c.root.Lstat(lockName); err == nil && lockFileProblem(fi, privateLockFile) != nil {
			if err := c.root.Remove(lockName); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s: not a private regular file, and it cannot be removed: %w", filepath.Join(c.path, lockName), err)
			}
		}
		// Made here, through the directory's os.Root and never through a
		// link, rather than by the goroutine that waits for the lock: a
		// wait cut short by ctx creates nothing after it returned.
		nf, err := c.root.OpenFile(lockName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = nf.Close()
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating the TUF cache's lock file: %w", err)
		}
		f, err := lockFile(ctx, filepath.Join(c.path, lockName), os.O_RDWR|nofollow|nonblock, lockWait)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("locking the TUF cache: %w", err)
		}
		if c.isLockFile(f, privateLockFile) {
			c.locked = f
			return nil
		}
		f.Close()
	}
	return fmt.Errorf("locking the TUF cache: %s was replaced at each of %d attempts", filepath.Join(c.path, lockName), maxLockAttempts)
}

// privateLockFile says why fi cannot be the lock file of a cache that is
// written: it is not a private file of the user's (cachedir.CheckPrivate),
// or group or others may open it (lockPermProblem). Anyone who can open
// the lock file can lock it, for good: it must be the user's alone.
func privateLockFile(fi fs.FileInfo) error {
	if err := cachedir.CheckPrivate(fi); err != nil {
		return err
	}
	return lockPermProblem(fi)
}

// lockFileProblem says why fi cannot be the lock file: it is no regular
// file, or check refuses it.
func lockFileProblem(fi fs.FileInfo, check func(fs.FileInfo) error) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	return check(fi)
}

// isLockFile reports whether f, just locked, is the lock file that now
// stands in the directory, a regular file that check accepts: a lock on a
// file removed or replaced meanwhile excludes no one.
func (c *cacheDir) isLockFile(f lockHandle, check func(fs.FileInfo) error) bool {
	ffi, err := f.Stat()
	if err != nil || lockFileProblem(ffi, check) != nil {
		return false
	}
	nfi, err := c.root.Lstat(lockName)
	return err == nil && os.SameFile(ffi, nfi)
}

// lockBusy is the error of a lock on path that wait did not get.
func lockBusy(path string, wait time.Duration) error {
	return fmt.Errorf("%s: %w for more than %v", path, errLockBusy, wait)
}

// writable reports whether the cache is to be written.
func (c *cacheDir) writable() bool { return c != nil && c.mode == cacheReadWrite }

// checkEntry says why a file or directory in the cache cannot be trusted:
// it belongs to neither the user nor root, or group or others can write
// it. Root could write it in any case.
func checkEntry(fi fs.FileInfo) error {
	err := cachedir.CheckPrivate(fi)
	if err != nil && ownedByRoot(fi) && fi.Mode().Perm()&0o022 == 0 {
		return nil
	}
	return err
}

// fileProblem says why fi cannot be read as a cached file of at most max
// bytes, or returns nil.
func fileProblem(fi fs.FileInfo, max int64) error {
	switch {
	case !fi.Mode().IsRegular():
		return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	case fi.Size() > max:
		return fmt.Errorf("larger than %d bytes", max)
	}
	return checkEntry(fi)
}

// subdir opens the subdirectory at the path names below the repository's
// directory: each must be a real directory (not a symbolic link) of the
// user's or root's that no one else can write. With create, missing ones
// are made (mode 0700). The caller closes the result.
func (c *cacheDir) subdir(create bool, names ...string) (*os.Root, error) {
	cur := c.root
	for _, name := range names {
		next, err := openChild(cur, name, create)
		if cur != c.root {
			cur.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(append([]string{c.path}, names...)...), err)
		}
		cur = next
	}
	if cur == c.root {
		return c.root.OpenRoot(".")
	}
	return cur, nil
}

// errNotPrivateDir refuses a subdirectory that is not a private one.
var errNotPrivateDir = errors.New("not a private directory of yours: remove it, and it is made again")

// openChild opens the directory name in parent, as subdir says.
func openChild(parent *os.Root, name string, create bool) (*os.Root, error) {
	fi, err := parent.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = parent.Mkdir(name, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
			fi, err = parent.Lstat(name)
		}
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w (%s)", errNotPrivateDir, fi.Mode().Type())
	}
	if err := checkEntry(fi); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotPrivateDir, err)
	}
	d, err := parent.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	// os.Root follows links that stay inside it: the directory opened must
	// be the one just inspected.
	if dfi, err := d.Stat("."); err != nil || !os.SameFile(fi, dfi) {
		d.Close()
		return nil, fmt.Errorf("%w: it changed while it was opened", errNotPrivateDir)
	}
	return d, nil
}

// read reads the file name of at most max bytes in the subdirectory at
// the path dirs (see readEntry).
func (c *cacheDir) read(name string, max int64, dirs ...string) ([]byte, error) {
	d, err := c.subdir(false, dirs...)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return readEntry(d, name, max)
}

// readEntry reads the file name in d: a regular file of the user's or
// root's that no one else can write, of at most max bytes. Anything else
// (a symbolic link, a FIFO that would block, a device, a file another
// user planted) is refused. The file read is the one inspected.
func readEntry(d *os.Root, name string, max int64) ([]byte, error) {
	fi, err := d.Lstat(name)
	if err != nil {
		return nil, err
	}
	if err := fileProblem(fi, max); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, err := d.OpenFile(name, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if ffi, err := f.Stat(); err != nil || !os.SameFile(fi, ffi) || !ffi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s changed while it was opened", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, max)
	}
	return b, nil
}

// writeAtomic writes b as the file name in the subdirectory at the path
// dirs (made if needed) by renaming a new temporary file over it, so that
// a reader sees the old content or the new, and nothing already there is
// written through: a symbolic link at name is replaced, not followed.
// What stands in the way and is no regular file (an empty directory, a
// link) is removed first.
func (c *cacheDir) writeAtomic(b []byte, name string, dirs ...string) error {
	d, err := c.subdir(true, dirs...)
	if err != nil {
		return err
	}
	defer d.Close()
	if fi, err := d.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		if err := d.Remove(name); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(d, name, b, 0o644)
}

// probeWritable checks that the directory and those of its subdirectories
// that exist and are used can be written: their mode lets the owner
// write, and a file can be created in each (a read-only file system
// passes the mode check). Nothing follows a link: the probe is a new file.
func (c *cacheDir) probeWritable() error {
	for _, dirs := range [][]string{nil, {targetsDir}, {stateDir}, {stateDir, rootsDir}} {
		d, err := c.subdir(false, dirs...)
		if err != nil {
			if len(dirs) == 0 {
				return err
			}
			continue // missing, or refused: not used
		}
		err = probe(d)
		d.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(append([]string{c.path}, dirs...)...), err)
		}
	}
	return nil
}

// probe creates and removes a file in d, after checking that d's mode lets
// its owner write.
func probe(d *os.Root) error {
	st, err := d.Stat(".")
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("%w (mode %v)", errReadOnly, st.Mode().Perm())
	}
	name := ".probe-" + rand.Text()
	f, err := d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return d.Remove(name)
}

// prepareMetadata makes the <role>.json files go-tuf reads by name safe to
// read: each must pass fileProblem with maxMetadataSize. In a cache that
// is written, one that does not is removed (go-tuf would replace it, and
// downloads it again); in one that is not, it makes the cache unusable,
// since go-tuf would read it. It returns the names removed.
func (c *cacheDir) prepareMetadata() ([]string, error) {
	f, err := c.root.Open(".")
	if err != nil {
		return nil, err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		fi, err := c.root.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = fileProblem(fi, maxMetadataSize)
		}
		if err == nil {
			continue
		}
		if !c.writable() {
			return removed, fmt.Errorf("%s: %w", filepath.Join(c.path, name), err)
		}
		if rerr := c.root.Remove(name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return removed, fmt.Errorf("%s: %w, and it cannot be removed: %w", filepath.Join(c.path, name), err, rerr)
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// checkRootOwned applies the cache-directory rule to a directory that the
// superuser owns, for a user who is not the superuser: such a directory is
// as safe to read as one's own, since only root can change it. It returns
// the directory's physical path, which alone is used after the check.
func checkRootOwned(dir string) (string, error) {
	if os.Geteuid() == 0 {
		return "", fmt.Errorf("%s: not a directory of the superuser's to share", dir)
	}
	return cachedir.CheckOwnedBy(dir, 0)
}

// nonblock opens FIFOs without waiting for a writer.
const nonblock = localfile.Nonblock
