//go:build unix

package fetch_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// foreignUID owns what "another user" made in these tests.
const foreignUID = 12345

// mkdirMode makes a directory with exactly mode (no umask), and chowns it
// to uid unless uid is negative.
func mkdirMode(t *testing.T, path string, mode os.FileMode, uid int) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(path, 0o700))
	require.NoError(t, os.Chmod(path, mode))
	if uid >= 0 {
		require.NoError(t, os.Chown(path, uid, uid))
	}
	return path
}

func symlink(t *testing.T, target, link string, uid int) string {
	t.Helper()
	require.NoError(t, os.Symlink(target, link))
	if uid >= 0 {
		require.NoError(t, os.Lchown(link, uid, uid))
	}
	return link
}

func TestCheckCacheDir(t *testing.T) {
	const me = -1 // keep the owner the test runs as
	cases := []struct {
		name     string
		root     bool                                         // needs root to chown
		layout   func(t *testing.T, base string) (dir string) // under base, the test's private directory
		bad      string                                       // the offending path under base; "" when dir passes
		contains string
	}{
		{name: "private", layout: func(t *testing.T, b string) string { return mkdirMode(t, filepath.Join(b, "c"), 0o700, me) }},
		{name: "read-only", layout: func(t *testing.T, b string) string { return mkdirMode(t, filepath.Join(b, "c"), 0o500, me) }},
		{name: "readable by others", layout: func(t *testing.T, b string) string { return mkdirMode(t, filepath.Join(b, "c"), 0o755, me) }},
		{name: "group-writable", bad: "c", contains: "others can write the cache directory",
			layout: func(t *testing.T, b string) string { return mkdirMode(t, filepath.Join(b, "c"), 0o770, me) }},
		{name: "world-writable", bad: "c", contains: "to trust it: rm -rf ",
			layout: func(t *testing.T, b string) string { return mkdirMode(t, filepath.Join(b, "c"), 0o703, me) }},
		{name: "world-writable and sticky", bad: "c", contains: "others can write the cache directory",
			layout: func(t *testing.T, b string) string {
				return mkdirMode(t, filepath.Join(b, "c"), 0o777|os.ModeSticky, me)
			}},
		{name: "foreign owner", root: true, bad: "c", contains: "belongs to uid 12345, not to you (uid 0); to trust it: remove it (rm -rf ",
			layout: func(t *testing.T, b string) string { return mkdirMode(t, filepath.Join(b, "c"), 0o700, foreignUID) }},
		{name: "world-writable parent without sticky bit", bad: "p", contains: "no sticky bit",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "p"), 0o777, me)
				return mkdirMode(t, filepath.Join(b, "p", "c"), 0o700, me)
			}},
		{name: "group-writable grandparent", bad: "g", contains: "on the way to the cache directory",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "g"), 0o770, me)
				mkdirMode(t, filepath.Join(b, "g", "p"), 0o755, me)
				return mkdirMode(t, filepath.Join(b, "g", "p", "c"), 0o700, me)
			}},
		{name: "world-writable sticky parent", layout: func(t *testing.T, b string) string {
			mkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me)
			return mkdirMode(t, filepath.Join(b, "tmp", "c"), 0o700, me)
		}},
		{name: "sticky parent of another user", root: true, bad: "tmp", contains: "neither root nor you",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, foreignUID)
				return mkdirMode(t, filepath.Join(b, "tmp", "c"), 0o700, me)
			}},
		{name: "foreign parent", root: true, bad: "home", contains: "belongs to uid 12345, neither root nor you",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "home"), 0o755, foreignUID)
				return mkdirMode(t, filepath.Join(b, "home", "c"), 0o700, me)
			}},
		{name: "symlink to a private directory", layout: func(t *testing.T, b string) string {
			mkdirMode(t, filepath.Join(b, "real"), 0o700, me)
			return symlink(t, filepath.Join(b, "real"), filepath.Join(b, "c"), me)
		}},
		{name: "relative symlink with dot-dot", layout: func(t *testing.T, b string) string {
			mkdirMode(t, filepath.Join(b, "a", "b"), 0o700, me)
			mkdirMode(t, filepath.Join(b, "links"), 0o700, me)
			return symlink(t, "../a/./b", filepath.Join(b, "links", "c"), me)
		}},
		{name: "symlink to a foreign directory", root: true, bad: "other", contains: "belongs to uid 12345, not to you",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "other"), 0o755, foreignUID)
				return symlink(t, filepath.Join(b, "other"), filepath.Join(b, "c"), me)
			}},
		{name: "symlink through a writable directory", bad: "shared", contains: "no sticky bit",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "shared"), 0o777, me)
				mkdirMode(t, filepath.Join(b, "shared", "real"), 0o700, me)
				return symlink(t, "shared/real", filepath.Join(b, "c"), me)
			}},
		{name: "foreign symlink in a sticky directory", root: true, bad: "tmp/c", contains: "the symbolic link",
			layout: func(t *testing.T, b string) string {
				mkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me)
				mkdirMode(t, filepath.Join(b, "real"), 0o700, me)
				return symlink(t, filepath.Join(b, "real"), filepath.Join(b, "tmp", "c"), foreignUID)
			}},
		{name: "symlink loop", bad: "l1", contains: "too many symbolic links",
			layout: func(t *testing.T, b string) string {
				symlink(t, "l2", filepath.Join(b, "l1"), me)
				symlink(t, "l1", filepath.Join(b, "l2"), me)
				return filepath.Join(b, "l1")
			}},
		{name: "nonexistent under a good parent", layout: func(t *testing.T, b string) string {
			return filepath.Join(b, "new", "deeper")
		}},
		{name: "nonexistent under a sticky parent", layout: func(t *testing.T, b string) string {
			return filepath.Join(mkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me), "new")
		}},
		{name: "nonexistent under a bad parent", bad: "p", contains: "no sticky bit",
			layout: func(t *testing.T, b string) string {
				return filepath.Join(mkdirMode(t, filepath.Join(b, "p"), 0o777, me), "new", "deeper")
			}},
		{name: "nonexistent under a foreign parent", root: true, bad: "p", contains: "neither root nor you",
			layout: func(t *testing.T, b string) string {
				return filepath.Join(mkdirMode(t, filepath.Join(b, "p"), 0o755, foreignUID), "new")
			}},
		{name: "a file", bad: "c", contains: "is not a directory",
			layout: func(t *testing.T, b string) string {
				require.NoError(t, os.WriteFile(filepath.Join(b, "c"), nil, 0o600))
				return filepath.Join(b, "c")
			}},
		{name: "a file on the way", bad: "f", contains: "is not a directory",
			layout: func(t *testing.T, b string) string {
				require.NoError(t, os.WriteFile(filepath.Join(b, "f"), nil, 0o600))
				return filepath.Join(b, "f", "c")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root && os.Geteuid() != 0 {
				t.Skip("making another user's files needs root")
			}
			base, err := filepath.EvalSymlinks(t.TempDir())
			require.NoError(t, err)
			dir := c.layout(t, base)
			err = fetch.CheckCacheDir(dir)
			if c.bad == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
			var cde *fetch.CacheDirError
			require.True(t, errors.As(err, &cde), "%T", err)
			assert.Equal(t, filepath.Join(base, c.bad), cde.Path, "the offending path")
			assert.Equal(t, dir, cde.Dir)
			assert.Contains(t, err.Error(), c.contains)
			assert.Contains(t, err.Error(), cde.Path)
			assert.NotEmpty(t, cde.Fix)
		})
	}
}

// A relative directory is judged where it is, and so is the empty one.
func TestCheckCacheDirRelativeAndEmpty(t *testing.T) {
	base := t.TempDir()
	mkdirMode(t, filepath.Join(base, "shared"), 0o777, -1)
	mkdirMode(t, filepath.Join(base, "shared", "c"), 0o700, -1)
	t.Chdir(filepath.Join(base, "shared"))
	err := fetch.CheckCacheDir("c")
	require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
	assert.Contains(t, err.Error(), "no sticky bit")
	require.ErrorIs(t, fetch.CheckCacheDir(""), fetch.ErrCacheDirNotPrivate)
}

// A path that cannot be inspected fails: the check fails closed.
func TestCheckCacheDirUninspectable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root inspects anything")
	}
	base := t.TempDir()
	locked := mkdirMode(t, filepath.Join(base, "locked"), 0o700, -1)
	mkdirMode(t, filepath.Join(locked, "c"), 0o700, -1)
	require.NoError(t, os.Chmod(locked, 0o000))
	t.Cleanup(func() { _ = os.Chmod(locked, 0o700) })
	err := fetch.CheckCacheDir(filepath.Join(locked, "c"))
	require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.Contains(t, err.Error(), "cannot inspect")
}

// "link/.." is the parent of the link's target, as the system reads it:
// the check follows the path the system follows, not a cleaned copy of it.
// Here ~/work links into a sticky directory where another user made "dl",
// writable by all: ~/work/../dl is that directory, and must fail.
func TestPrepareCacheDirDotDotAfterLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the directory to another user")
	}
	base := t.TempDir()
	require.NoError(t, os.Chmod(base, 0o755))
	home := mkdirMode(t, filepath.Join(base, "home"), 0o755, -1)
	shared := mkdirMode(t, filepath.Join(base, "shared"), 0o777|os.ModeSticky, -1)
	work := mkdirMode(t, filepath.Join(shared, "work-me"), 0o700, -1)
	symlink(t, work, filepath.Join(home, "work"), -1)
	mkdirMode(t, filepath.Join(shared, "dl"), 0o777, foreignUID)

	dir := filepath.Join(home, "work") + "/../dl"
	require.ErrorIs(t, fetch.CheckCacheDir(dir), fetch.ErrCacheDirNotPrivate)
	require.ErrorIs(t, fetch.PrepareCacheDir(dir), fetch.ErrCacheDirNotPrivate)
	_, err := os.Stat(filepath.Join(home, "dl"))
	assert.True(t, os.IsNotExist(err), "nothing created at the cleaned path")
}
