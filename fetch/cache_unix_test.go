//go:build unix

package fetch_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/testfs"
)

// needRoot skips a test that makes another user's files.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making another user's files needs root")
	}
}

// A symbolic link planted as a key's subdirectory, pointing out of the
// cache, turns no write and no read elsewhere: the attack of the review,
// where a root run wrote a channel-chosen sidecar into /etc/cron.d.
func TestDirCacheDoesNotFollowLinksOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	victim := testfs.MkdirMode(t, filepath.Join(base, "cron.d"), 0o700, -1) // stands for /etc/cron.d
	dir := testfs.MkdirMode(t, filepath.Join(base, "cache"), 0o700, -1)
	c := mustDirCache(t, dir) // opened before the link is planted
	payload := []byte("* * * * * root touch /tmp/pwned\n")
	key := digestOf(payload)
	testfs.Symlink(t, victim, filepath.Join(dir, key[:2]), -1)

	err := c.Put(ctx, key, payload)
	require.Error(t, err)
	entries, err := os.ReadDir(victim)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written through the link")

	// Nor is anything read through it, or through a link as the entry.
	require.NoError(t, os.WriteFile(filepath.Join(victim, key), payload, 0o600))
	_, err = c.Get(ctx, key)
	assert.ErrorIs(t, err, fetch.ErrCacheMiss)
	require.NoError(t, os.Remove(filepath.Join(dir, key[:2])))
	testfs.MkdirMode(t, filepath.Join(dir, key[:2]), 0o700, -1)
	testfs.Symlink(t, filepath.Join(victim, key), filepath.Join(dir, key[:2], key), -1)
	_, err = c.Get(ctx, key)
	assert.ErrorIs(t, err, fetch.ErrCacheMiss)
	// A relative link that climbs out, the same.
	require.NoError(t, os.Remove(filepath.Join(dir, key[:2], key)))
	testfs.Symlink(t, "../../cron.d/"+key, filepath.Join(dir, key[:2], key), -1)
	_, err = c.Get(ctx, key)
	assert.ErrorIs(t, err, fetch.ErrCacheMiss)

	// Put replaces the link by the entry: the file it points to is intact.
	require.NoError(t, c.Put(ctx, key, []byte("mine")))
	got, err := c.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []byte("mine"), got)
	b, err := os.ReadFile(filepath.Join(victim, key))
	require.NoError(t, err)
	assert.Equal(t, payload, b)
}

// What others planted in a cache while it was open to them is not read
// back once its directory is private again (the user ran chmod go-w):
// an entry or a key subdirectory that belongs to another user, or that
// group or others can write, is a miss, and Put writes into no such
// subdirectory.
func TestDirCacheRejectsPlanted(t *testing.T) {
	const me = -1
	cases := []struct {
		name    string
		root    bool
		plant   func(t *testing.T, sub, entry string)
		putFail bool // the subdirectory is not private: Put refuses it
	}{
		{name: "foreign entry", root: true, plant: func(t *testing.T, sub, entry string) {
			testfs.MkdirMode(t, sub, 0o700, me)
			writeEntry(t, entry, 0o644, testfs.ForeignUID)
		}},
		{name: "world-writable entry", plant: func(t *testing.T, sub, entry string) {
			testfs.MkdirMode(t, sub, 0o700, me)
			writeEntry(t, entry, 0o666, me)
		}},
		{name: "group-writable entry", plant: func(t *testing.T, sub, entry string) {
			testfs.MkdirMode(t, sub, 0o700, me)
			writeEntry(t, entry, 0o620, me)
		}},
		{name: "foreign subdirectory", root: true, putFail: true, plant: func(t *testing.T, sub, entry string) {
			testfs.MkdirMode(t, sub, 0o777, testfs.ForeignUID)
			writeEntry(t, entry, 0o600, me) // even an entry of the user's: the directory's owner can replace it
		}},
		{name: "world-writable subdirectory", putFail: true, plant: func(t *testing.T, sub, entry string) {
			testfs.MkdirMode(t, sub, 0o777, me)
			writeEntry(t, entry, 0o600, me)
		}},
		{name: "subdirectory linked inside the cache", putFail: true, plant: func(t *testing.T, sub, entry string) {
			other := testfs.MkdirMode(t, filepath.Join(filepath.Dir(sub), "zz"), 0o700, me)
			writeEntry(t, filepath.Join(other, filepath.Base(entry)), 0o600, me)
			testfs.Symlink(t, "zz", sub, me)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root {
				needRoot(t)
			}
			ctx := context.Background()
			dir := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "cache"), 0o700, me)
			cache := mustDirCache(t, dir) // opened before the entry is planted
			key := digestOf([]byte(c.name))
			sub := filepath.Join(dir, key[:2])
			entry := filepath.Join(sub, key)
			c.plant(t, sub, entry)
			// Control: the planted bytes are there to be read.
			b, err := os.ReadFile(entry)
			require.NoError(t, err)
			require.Equal(t, []byte("planted"), b)

			_, err = cache.Get(ctx, key)
			assert.ErrorIs(t, err, fetch.ErrCacheMiss)
			// Opened afterwards (a later run): the directory passes,
			// since its entries are not inspected then, but the planted
			// entry is still a miss.
			_, err = mustDirCache(t, dir).Get(ctx, key)
			assert.ErrorIs(t, err, fetch.ErrCacheMiss)

			err = cache.Put(ctx, key, []byte("mine"))
			if c.putFail {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "rm -rf "+sub)
				b, err := os.ReadFile(entry)
				require.NoError(t, err)
				assert.Equal(t, []byte("planted"), b, "nothing written there")
				return
			}
			require.NoError(t, err, "the user's own subdirectory: the planted entry is replaced")
			got, err := cache.Get(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, []byte("mine"), got)
		})
	}
}

// A cache directory removed while the cache is open, and made again by
// someone else (in a sticky directory such as /tmp, anyone can), is not
// the directory that was checked: nothing is read from it, even an entry
// that looks like the user's, and nothing is written to it. One the user
// removed is created again, private, by the next Put, and checked as
// NewDirCache checks it.
func TestDirCacheDirectoryReplaced(t *testing.T) {
	const me = -1
	for _, c := range []struct {
		name string
		root bool
		make func(t *testing.T, dir string)
	}{
		{name: "world-writable", make: func(t *testing.T, dir string) { testfs.MkdirMode(t, dir, 0o777, me) }},
		{name: "foreign", root: true, make: func(t *testing.T, dir string) { testfs.MkdirMode(t, dir, 0o755, testfs.ForeignUID) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root {
				needRoot(t)
			}
			ctx := context.Background()
			tmp := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "tmp"), 0o777|os.ModeSticky, me)
			dir := filepath.Join(tmp, "cache")
			cache := mustDirCache(t, dir)
			key := digestOf([]byte(c.name))
			require.NoError(t, cache.Put(ctx, key, []byte("mine")))

			require.NoError(t, os.RemoveAll(dir))
			c.make(t, dir)
			sub := testfs.MkdirMode(t, filepath.Join(dir, key[:2]), 0o700, me)
			writeEntry(t, filepath.Join(sub, key), 0o600, me)

			_, err := cache.Get(ctx, key)
			assert.ErrorIs(t, err, fetch.ErrCacheMiss)
			assert.ErrorContains(t, err, "changed since it was checked")
			other := digestOf([]byte("other"))
			err = cache.Put(ctx, other, []byte("mine"))
			require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
			assert.NoFileExists(t, filepath.Join(dir, other[:2], other), "nothing written")
		})
	}
	t.Run("removed", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		base := t.TempDir()
		dir := filepath.Join(base, "p", "cache")
		cache := mustDirCache(t, dir)
		key := digestOf([]byte("removed"))
		require.NoError(t, os.RemoveAll(filepath.Join(base, "p")))
		_, err := cache.Get(ctx, key)
		assert.ErrorIs(t, err, fetch.ErrCacheMiss)
		require.NoError(t, cache.Put(ctx, key, []byte("v")))
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "created again, private")

		// Its parent, made again writable by others: not created again.
		require.NoError(t, os.RemoveAll(filepath.Join(base, "p")))
		testfs.MkdirMode(t, filepath.Join(base, "p"), 0o777, me)
		err = cache.Put(ctx, key, []byte("v"))
		require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
		assert.ErrorContains(t, err, "no sticky bit")
		assert.NoDirExists(t, dir)
	})
}

// writeEntry writes "planted" at path with exactly mode, owned by uid
// unless it is negative.
func writeEntry(t *testing.T, path string, mode os.FileMode, uid int) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte("planted"), 0o600))
	require.NoError(t, os.Chmod(path, mode))
	if uid >= 0 {
		require.NoError(t, os.Lchown(path, uid, uid))
	}
}

// A FIFO as the cache directory or as a key's subdirectory blocks
// neither a read nor a write (os.OpenRoot would wait for its writer), nor
// NewDirCache, which refuses it as the directory.
func TestDirCacheFIFODirectories(t *testing.T) {
	t.Parallel()
	key := digestOf([]byte("x"))
	t.Run("the directory, at first", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "c")
		if err := syscall.Mkfifo(dir, 0o600); err != nil {
			t.Skipf("no FIFOs here: %v", err)
		}
		err := within(t, func() error {
			c, err := fetch.NewDirCache(dir)
			assert.Nil(t, c)
			return err
		})
		assert.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
		assert.ErrorContains(t, err, "is not a directory")
	})
	for name, layout := range map[string]func(base string) (dir, fifo string){
		"the directory, later": func(base string) (string, string) { return filepath.Join(base, "c"), filepath.Join(base, "c") },
		"the subdirectory":     func(base string) (string, string) { return base, filepath.Join(base, key[:2]) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir, fifo := layout(t.TempDir())
			c := mustDirCache(t, dir)
			require.NoError(t, os.RemoveAll(fifo))
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			err := within(t, func() error {
				_, err := c.Get(context.Background(), key)
				return err
			})
			assert.Error(t, err)
			err = within(t, func() error { return c.Put(context.Background(), key, []byte("x")) })
			assert.Error(t, err)
		})
	}
}

// NewDirCache creates a missing directory private, and fails, creating
// nothing and returning no cache, where the directory could not be
// trusted.
func TestNewDirCacheChecksDir(t *testing.T) {
	const me = -1
	cases := []struct {
		name    string
		root    bool
		layout  func(t *testing.T, base string) string
		bad     string // what the error says; "" when dir is fit
		created bool   // dir is made by NewDirCache
	}{
		{name: "new", created: true, layout: func(t *testing.T, b string) string { return filepath.Join(b, "new", "c") }},
		{name: "new in a sticky directory", created: true, layout: func(t *testing.T, b string) string {
			return filepath.Join(testfs.MkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me), "c")
		}},
		{name: "private", layout: func(t *testing.T, b string) string { return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o700, me) }},
		{name: "world-writable", bad: "rm -rf ", layout: func(t *testing.T, b string) string {
			return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o777, me)
		}},
		{name: "new under a writable parent", bad: "no sticky bit", layout: func(t *testing.T, b string) string {
			return filepath.Join(testfs.MkdirMode(t, filepath.Join(b, "p"), 0o777, me), "c")
		}},
		{name: "foreign", root: true, bad: "belongs to uid 12345", layout: func(t *testing.T, b string) string {
			return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o700, testfs.ForeignUID)
		}},
		{name: "new under a foreign parent", root: true, bad: "neither root nor you", layout: func(t *testing.T, b string) string {
			return filepath.Join(testfs.MkdirMode(t, filepath.Join(b, "p"), 0o777|os.ModeSticky, testfs.ForeignUID), "c")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root {
				needRoot(t)
			}
			dir := c.layout(t, t.TempDir())
			_, statErr := os.Lstat(dir)
			cache, err := fetch.NewDirCache(dir)
			if c.bad != "" {
				require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
				assert.Nil(t, cache, "no cache of a directory that is not trusted")
				assert.Contains(t, err.Error(), c.bad)
				assert.Contains(t, err.Error(), dir, "the path at fault is named")
				_, err := os.Lstat(dir)
				assert.Equal(t, os.IsNotExist(statErr), os.IsNotExist(err), "nothing created")
				return
			}
			require.NoError(t, err)
			fi, err := os.Lstat(dir)
			require.NoError(t, err)
			assert.True(t, fi.IsDir())
			if c.created {
				assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "created private")
			}
			key := digestOf([]byte(c.name))
			require.NoError(t, cache.Put(context.Background(), key, []byte("v")))
			got, err := cache.Get(context.Background(), key)
			require.NoError(t, err)
			assert.Equal(t, []byte("v"), got)
		})
	}
}

// A directory that cannot be created is an error of its own kind: it is
// not said to be not private.
func TestNewDirCacheCannotCreate(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anyway")
	}
	locked := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "locked"), 0o500, -1)
	t.Cleanup(func() { _ = os.Chmod(locked, 0o700) })
	c, err := fetch.NewDirCache(filepath.Join(locked, "c"))
	assert.Nil(t, c)
	require.ErrorIs(t, err, os.ErrPermission)
	assert.NotErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
}

// Kept repodata is trusted as it is read back: a copy that another user
// planted, or could have rewritten, or that lies out of the directory,
// is not used (the document is downloaded again, without a conditional
// request), and nothing is kept in a directory that is not private.
func TestRepodataPlantedCopyNotUsed(t *testing.T) {
	cases := []struct {
		name       string
		root       bool
		plant      func(t *testing.T, dir, kept string)
		dirPrivate bool // the new download is kept again
	}{
		{name: "foreign copy", root: true, dirPrivate: true, plant: func(t *testing.T, _, kept string) {
			require.NoError(t, os.Lchown(kept, testfs.ForeignUID, testfs.ForeignUID))
		}},
		{name: "world-writable copy", dirPrivate: true, plant: func(t *testing.T, _, kept string) {
			require.NoError(t, os.Chmod(kept, 0o666))
		}},
		{name: "copy linked out of the directory", dirPrivate: true, plant: func(t *testing.T, dir, kept string) {
			out := filepath.Join(filepath.Dir(dir), "elsewhere")
			require.NoError(t, os.Rename(kept, out))
			testfs.Symlink(t, out, kept, -1)
		}},
		{name: "foreign directory", root: true, plant: func(t *testing.T, dir, _ string) {
			require.NoError(t, os.Chown(dir, testfs.ForeignUID, testfs.ForeignUID))
		}},
		{name: "group-writable directory", plant: func(t *testing.T, dir, _ string) {
			require.NoError(t, os.Chmod(dir, 0o770))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root {
				needRoot(t)
			}
			srv := newRepodataServer(t, doc1, `"v1"`)
			dir := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "repodata"), 0o700, -1)
			c0 := newClient(t, fetch.Options{RepodataDir: dir})
			u := srv.URL + "/c/noarch/repodata.json"
			readAll(t, c0, u)
			files := cacheFiles(t, dir)
			require.Len(t, files, 1)
			c.plant(t, dir, files[0])
			planted, err := os.ReadFile(files[0])
			require.NoError(t, err)

			assert.Equal(t, doc1, readAll(t, newClient(t, fetch.Options{RepodataDir: dir}), u))
			_, cond := srv.stats()
			require.Len(t, cond, 2)
			assert.Equal(t, "|", cond[1], "the planted copy is not used")
			if !c.dirPrivate {
				// A directory that fails the rule is not touched: nothing
				// is kept, rewritten or removed in it.
				assert.Equal(t, files, cacheFiles(t, dir), "nothing kept in a directory that is not private")
				after, err := os.ReadFile(files[0])
				require.NoError(t, err)
				assert.Equal(t, planted, after)
				return
			}
			readAll(t, c0, u)
			_, cond = srv.stats()
			assert.Equal(t, `"v1"|`, cond[2], "a fresh copy was kept")
		})
	}
}

// TestRepodataDirParentOpenToOthers: Options.RepodataDir is held to
// NewDirCache's whole rule, parents included: a private directory under a
// parent that others can write (and so replace it through) keeps nothing,
// and the documents are read whole from the server.
func TestRepodataDirParentOpenToOthers(t *testing.T) {
	srv := newRepodataServer(t, doc1, `"v1"`)
	open := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "open"), 0o777, -1)
	dir := testfs.MkdirMode(t, filepath.Join(open, "repodata"), 0o700, -1)
	c := newClient(t, fetch.Options{RepodataDir: dir})
	u := srv.URL + "/c/noarch/repodata.json"
	for range 2 {
		assert.Equal(t, doc1, readAll(t, c, u))
	}
	assert.Empty(t, cacheFiles(t, dir), "nothing kept under a parent others can write")
	_, cond := srv.stats()
	assert.Equal(t, []string{"|", "|"}, cond, "no copy revalidated")
}

// TestRepodataDirRelative: a relative RepodataDir stays the directory it
// named when New ran, whatever the working directory becomes.
func TestRepodataDirRelative(t *testing.T) {
	srv := newRepodataServer(t, doc1, `"v1"`)
	base := t.TempDir()
	t.Chdir(base)
	c := newClient(t, fetch.Options{RepodataDir: "repodata"})
	t.Chdir(t.TempDir())
	u := srv.URL + "/c/noarch/repodata.json"
	readAll(t, c, u)
	assert.Len(t, cacheFiles(t, filepath.Join(base, "repodata")), 1, "kept where RepodataDir named when New ran")
	assert.NoDirExists(t, "repodata")
}
