//go:build unix

package trustroot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review E, finding 2: a shared (root's) cache directory is checked along
// the path as given, component by component, as the system follows it:
// every directory passed through and every link belongs to root or the
// user and no one else can write a directory passed through unless it is
// sticky; only the last directory is the shared one. Here the owner of
// the shared directory is the user running the test (root in CI, where
// the cases that give files to another user run too).
func TestCheckSharedDirWalksThePath(t *testing.T) {
	t.Parallel()
	const other = 12345
	me := uint32(os.Geteuid())
	for name, c := range map[string]struct {
		// make builds the tree under base and returns the path to check
		// and the directory it leads to ("": refused).
		make     func(t *testing.T, base string) (path, want string)
		needRoot bool
	}{
		"plain": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, base, "good/cache", 0o755)
			return p, p
		}},
		"link to a directory of the user": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, base, "good/cache", 0o755)
			return link(t, p, filepath.Join(base, "link")), p
		}},
		"sticky directory on the way": {make: func(t *testing.T, base string) (string, string) {
			mkdir(t, base, "sticky", 0o777|os.ModeSticky)
			p := mkdir(t, base, "sticky/cache", 0o755)
			return p, p
		}},
		"group-writable directory on the way": {make: func(t *testing.T, base string) (string, string) {
			mkdir(t, base, "open", 0o775)
			return mkdir(t, base, "open/cache", 0o755), ""
		}},
		"directory others can write on the way": {make: func(t *testing.T, base string) (string, string) {
			mkdir(t, base, "open", 0o757)
			return mkdir(t, base, "open/cache", 0o755), ""
		}},
		"link into a directory others can write": {make: func(t *testing.T, base string) (string, string) {
			mkdir(t, base, "open", 0o777)
			p := mkdir(t, base, "open/cache", 0o755)
			return link(t, p, filepath.Join(base, "link")), ""
		}},
		"link in a directory others can write": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, base, "good/cache", 0o755)
			mkdir(t, base, "open", 0o777)
			return link(t, p, filepath.Join(base, "open", "link")), ""
		}},
		"link/.. through a directory others can write": {make: func(t *testing.T, base string) (string, string) {
			mkdir(t, base, "good/cache", 0o755)
			mkdir(t, base, "open", 0o777)
			mkdir(t, base, "open/sub", 0o755)
			// The system reads link/../.. as open/sub/../..: base.
			link(t, filepath.Join(base, "open", "sub"), filepath.Join(base, "link"))
			return filepath.Join(base, "link") + "/../../good/cache", ""
		}},
		"link/.. as the system reads it": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, base, "good/cache", 0o755)
			mkdir(t, base, "good/sub/deeper", 0o755)
			link(t, filepath.Join(base, "good", "sub", "deeper"), filepath.Join(base, "link"))
			return filepath.Join(base, "link") + "/../../cache", p
		}},
		"shared directory writable by group": {make: func(t *testing.T, base string) (string, string) {
			return mkdir(t, base, "good/cache", 0o775), ""
		}},
		"link of another user in a sticky directory": {needRoot: true, make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, base, "good/cache", 0o755)
			mkdir(t, base, "sticky", 0o777|os.ModeSticky)
			l := link(t, p, filepath.Join(base, "sticky", "link"))
			require.NoError(t, os.Lchown(l, other, other))
			return l, ""
		}},
		"directory of another user on the way": {needRoot: true, make: func(t *testing.T, base string) (string, string) {
			d := mkdir(t, base, "theirs", 0o755)
			p := mkdir(t, base, "theirs/cache", 0o755)
			require.NoError(t, os.Lchown(d, other, other))
			return p, ""
		}},
		"shared directory of another user": {needRoot: true, make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, base, "good/cache", 0o755)
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
			got, err := checkSharedDir(path, me, me)
			if want == "" {
				assert.Error(t, err, "%s was accepted as %s", path, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// mkdir makes the directories of rel under base (mode 0755), the last
// with mode perm, and returns its path.
func mkdir(t *testing.T, base, rel string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(base, rel)
	require.NoError(t, os.MkdirAll(p, 0o755))
	require.NoError(t, os.Chmod(p, perm))
	return p
}

// link makes l a symbolic link to target and returns l.
func link(t *testing.T, target, l string) string {
	t.Helper()
	require.NoError(t, os.Symlink(target, l))
	return l
}
