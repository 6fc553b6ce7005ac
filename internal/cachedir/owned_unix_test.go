//go:build unix

package cachedir_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/testfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review E, finding 2: a shared (root's) cache directory (CheckOwnedBy) is
// checked along
// the path as given, component by component, as the system follows it:
// every directory passed through and every link belongs to root or the
// user and no one else can write a directory passed through unless it is
// sticky; only the last directory is the shared one. Here the owner of
// the shared directory is the user running the test (root in CI, where
// the cases that give files to another user run too).
func TestCheckOwnedByWalksThePath(t *testing.T) {
	t.Parallel()
	const other = 12345
	me := os.Geteuid()
	for name, c := range map[string]struct {
		// make builds the tree under base and returns the path to check
		// and the directory it leads to ("": refused).
		make     func(t *testing.T, base string) (path, want string)
		needRoot bool
	}{
		"plain": {make: func(t *testing.T, base string) (string, string) {
			p := testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			return p, p
		}},
		"link to a directory of the user": {make: func(t *testing.T, base string) (string, string) {
			p := testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			return testfs.Symlink(t, p, filepath.Join(base, "link"), -1), p
		}},
		"sticky directory on the way": {make: func(t *testing.T, base string) (string, string) {
			testfs.MkdirMode(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky, -1)
			p := testfs.MkdirMode(t, filepath.Join(base, "sticky/cache"), 0o755, -1)
			return p, p
		}},
		"group-writable directory on the way": {make: func(t *testing.T, base string) (string, string) {
			testfs.MkdirMode(t, filepath.Join(base, "open"), 0o775, -1)
			return testfs.MkdirMode(t, filepath.Join(base, "open/cache"), 0o755, -1), ""
		}},
		"directory others can write on the way": {make: func(t *testing.T, base string) (string, string) {
			testfs.MkdirMode(t, filepath.Join(base, "open"), 0o757, -1)
			return testfs.MkdirMode(t, filepath.Join(base, "open/cache"), 0o755, -1), ""
		}},
		"link into a directory others can write": {make: func(t *testing.T, base string) (string, string) {
			testfs.MkdirMode(t, filepath.Join(base, "open"), 0o777, -1)
			p := testfs.MkdirMode(t, filepath.Join(base, "open/cache"), 0o755, -1)
			return testfs.Symlink(t, p, filepath.Join(base, "link"), -1), ""
		}},
		"link in a directory others can write": {make: func(t *testing.T, base string) (string, string) {
			p := testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			testfs.MkdirMode(t, filepath.Join(base, "open"), 0o777, -1)
			return testfs.Symlink(t, p, filepath.Join(base, "open", "link"), -1), ""
		}},
		"link/.. through a directory others can write": {make: func(t *testing.T, base string) (string, string) {
			testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			testfs.MkdirMode(t, filepath.Join(base, "open"), 0o777, -1)
			testfs.MkdirMode(t, filepath.Join(base, "open/sub"), 0o755, -1)
			// The system reads link/../.. as open/sub/../..: base.
			testfs.Symlink(t, filepath.Join(base, "open", "sub"), filepath.Join(base, "link"), -1)
			return filepath.Join(base, "link") + "/../../good/cache", ""
		}},
		"link/.. as the system reads it": {make: func(t *testing.T, base string) (string, string) {
			p := testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			testfs.MkdirMode(t, filepath.Join(base, "good/sub/deeper"), 0o755, -1)
			testfs.Symlink(t, filepath.Join(base, "good", "sub", "deeper"), filepath.Join(base, "link"), -1)
			return filepath.Join(base, "link") + "/../../cache", p
		}},
		"shared directory writable by group": {make: func(t *testing.T, base string) (string, string) {
			return testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o775, -1), ""
		}},
		"link of another user in a sticky directory": {needRoot: true, make: func(t *testing.T, base string) (string, string) {
			p := testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			testfs.MkdirMode(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky, -1)
			l := testfs.Symlink(t, p, filepath.Join(base, "sticky", "link"), -1)
			require.NoError(t, os.Lchown(l, other, other))
			return l, ""
		}},
		"directory of another user on the way": {needRoot: true, make: func(t *testing.T, base string) (string, string) {
			d := testfs.MkdirMode(t, filepath.Join(base, "theirs"), 0o755, -1)
			p := testfs.MkdirMode(t, filepath.Join(base, "theirs/cache"), 0o755, -1)
			require.NoError(t, os.Lchown(d, other, other))
			return p, ""
		}},
		"shared directory of another user": {needRoot: true, make: func(t *testing.T, base string) (string, string) {
			p := testfs.MkdirMode(t, filepath.Join(base, "good/cache"), 0o755, -1)
			require.NoError(t, os.Lchown(p, other, other))
			return p, ""
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if c.needRoot && me != 0 {
				t.Skip("needs root to give files to another user")
			}
			base, err := filepath.EvalSymlinks(t.TempDir())
			require.NoError(t, err)
			path, want := c.make(t, base)
			got, err := cachedir.CheckOwnedBy(path, me)
			if want == "" {
				assert.Error(t, err, "%s was accepted as %s", path, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}
