//go:build unix

package cachedir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/testfs"
)

func TestCheckCacheDir(t *testing.T) {
	const me = -1 // keep the owner the test runs as
	cases := []struct {
		name     string
		root     bool                                         // needs root to chown
		layout   func(t *testing.T, base string) (dir string) // under base, the test's private directory
		bad      string                                       // the offending path under base; "" when dir passes
		contains string
	}{
		{name: "private", layout: func(t *testing.T, b string) string { return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o700, me) }},
		{name: "read-only", layout: func(t *testing.T, b string) string { return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o500, me) }},
		{name: "readable by others", layout: func(t *testing.T, b string) string { return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o755, me) }},
		{name: "group-writable", bad: "c", contains: "others can write the cache directory",
			layout: func(t *testing.T, b string) string { return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o770, me) }},
		{name: "world-writable", bad: "c", contains: "to trust it: rm -rf ",
			layout: func(t *testing.T, b string) string { return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o703, me) }},
		{name: "world-writable and sticky", bad: "c", contains: "others can write the cache directory",
			layout: func(t *testing.T, b string) string {
				return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o777|os.ModeSticky, me)
			}},
		{name: "foreign owner", root: true, bad: "c", contains: "belongs to uid 12345, not to you (uid 0); to trust it: remove it (rm -rf ",
			layout: func(t *testing.T, b string) string {
				return testfs.MkdirMode(t, filepath.Join(b, "c"), 0o700, testfs.ForeignUID)
			}},
		{name: "world-writable parent without sticky bit", bad: "p", contains: "no sticky bit",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "p"), 0o777, me)
				return testfs.MkdirMode(t, filepath.Join(b, "p", "c"), 0o700, me)
			}},
		{name: "group-writable grandparent", bad: "g", contains: "on the way to the cache directory",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "g"), 0o770, me)
				testfs.MkdirMode(t, filepath.Join(b, "g", "p"), 0o755, me)
				return testfs.MkdirMode(t, filepath.Join(b, "g", "p", "c"), 0o700, me)
			}},
		{name: "world-writable sticky parent", layout: func(t *testing.T, b string) string {
			testfs.MkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me)
			return testfs.MkdirMode(t, filepath.Join(b, "tmp", "c"), 0o700, me)
		}},
		{name: "sticky parent of another user", root: true, bad: "tmp", contains: "neither root nor you",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, testfs.ForeignUID)
				return testfs.MkdirMode(t, filepath.Join(b, "tmp", "c"), 0o700, me)
			}},
		{name: "foreign parent", root: true, bad: "home", contains: "belongs to uid 12345, neither root nor you",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "home"), 0o755, testfs.ForeignUID)
				return testfs.MkdirMode(t, filepath.Join(b, "home", "c"), 0o700, me)
			}},
		{name: "symlink to a private directory", layout: func(t *testing.T, b string) string {
			testfs.MkdirMode(t, filepath.Join(b, "real"), 0o700, me)
			return testfs.Symlink(t, filepath.Join(b, "real"), filepath.Join(b, "c"), me)
		}},
		{name: "relative symlink with dot-dot", layout: func(t *testing.T, b string) string {
			testfs.MkdirMode(t, filepath.Join(b, "a", "b"), 0o700, me)
			testfs.MkdirMode(t, filepath.Join(b, "links"), 0o700, me)
			return testfs.Symlink(t, "../a/./b", filepath.Join(b, "links", "c"), me)
		}},
		{name: "symlink to a foreign directory", root: true, bad: "other", contains: "belongs to uid 12345, not to you",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "other"), 0o755, testfs.ForeignUID)
				return testfs.Symlink(t, filepath.Join(b, "other"), filepath.Join(b, "c"), me)
			}},
		{name: "symlink through a writable directory", bad: "shared", contains: "no sticky bit",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "shared"), 0o777, me)
				testfs.MkdirMode(t, filepath.Join(b, "shared", "real"), 0o700, me)
				return testfs.Symlink(t, "shared/real", filepath.Join(b, "c"), me)
			}},
		{name: "foreign symlink in a sticky directory", root: true, bad: "tmp/c", contains: "the symbolic link",
			layout: func(t *testing.T, b string) string {
				testfs.MkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me)
				testfs.MkdirMode(t, filepath.Join(b, "real"), 0o700, me)
				return testfs.Symlink(t, filepath.Join(b, "real"), filepath.Join(b, "tmp", "c"), testfs.ForeignUID)
			}},
		{name: "symlink loop", bad: "l1", contains: "too many symbolic links",
			layout: func(t *testing.T, b string) string {
				testfs.Symlink(t, "l2", filepath.Join(b, "l1"), me)
				testfs.Symlink(t, "l1", filepath.Join(b, "l2"), me)
				return filepath.Join(b, "l1")
			}},
		{name: "nonexistent under a good parent", layout: func(t *testing.T, b string) string {
			return filepath.Join(b, "new", "deeper")
		}},
		{name: "nonexistent under a sticky parent", layout: func(t *testing.T, b string) string {
			return filepath.Join(testfs.MkdirMode(t, filepath.Join(b, "tmp"), 0o777|os.ModeSticky, me), "new")
		}},
		{name: "nonexistent under a bad parent", bad: "p", contains: "no sticky bit",
			layout: func(t *testing.T, b string) string {
				return filepath.Join(testfs.MkdirMode(t, filepath.Join(b, "p"), 0o777, me), "new", "deeper")
			}},
		{name: "nonexistent under a foreign parent", root: true, bad: "p", contains: "neither root nor you",
			layout: func(t *testing.T, b string) string {
				return filepath.Join(testfs.MkdirMode(t, filepath.Join(b, "p"), 0o755, testfs.ForeignUID), "new")
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
			err = cachedir.Check(dir)
			if c.bad == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, cachedir.ErrNotPrivate)
			var cde *cachedir.Error
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
	testfs.MkdirMode(t, filepath.Join(base, "shared"), 0o777, -1)
	testfs.MkdirMode(t, filepath.Join(base, "shared", "c"), 0o700, -1)
	t.Chdir(filepath.Join(base, "shared"))
	err := cachedir.Check("c")
	require.ErrorIs(t, err, cachedir.ErrNotPrivate)
	assert.Contains(t, err.Error(), "no sticky bit")
	require.ErrorIs(t, cachedir.Check(""), cachedir.ErrNotPrivate)
}

// A path that cannot be inspected fails: the check fails closed.
func TestCheckCacheDirUninspectable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root inspects anything")
	}
	base := t.TempDir()
	locked := testfs.MkdirMode(t, filepath.Join(base, "locked"), 0o700, -1)
	testfs.MkdirMode(t, filepath.Join(locked, "c"), 0o700, -1)
	require.NoError(t, os.Chmod(locked, 0o000))
	t.Cleanup(func() { _ = os.Chmod(locked, 0o700) })
	err := cachedir.Check(filepath.Join(locked, "c"))
	require.ErrorIs(t, err, cachedir.ErrNotPrivate)
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
	home := testfs.MkdirMode(t, filepath.Join(base, "home"), 0o755, -1)
	shared := testfs.MkdirMode(t, filepath.Join(base, "shared"), 0o777|os.ModeSticky, -1)
	work := testfs.MkdirMode(t, filepath.Join(shared, "work-me"), 0o700, -1)
	testfs.Symlink(t, work, filepath.Join(home, "work"), -1)
	testfs.MkdirMode(t, filepath.Join(shared, "dl"), 0o777, testfs.ForeignUID)

	dir := filepath.Join(home, "work") + "/../dl"
	require.ErrorIs(t, cachedir.Check(dir), cachedir.ErrNotPrivate)
	require.ErrorIs(t, cachedir.Prepare(dir), cachedir.ErrNotPrivate)
	_, err := os.Stat(filepath.Join(home, "dl"))
	assert.True(t, os.IsNotExist(err), "nothing created at the cleaned path")
}
