//go:build unix

package cachedir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shared-directory rule as a user who is not root sees it: the test
// (run as root, which owns what it makes) plays the user user, and
// attacker is another user. Review H: without these, CheckOwnedBy was only
// tested with the owner being the user running the test.
func TestCheckOwnedByForAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to other users")
	}
	t.Parallel()
	const user, attacker = 12345, 23456
	chown := func(t *testing.T, p string, uid int) string {
		t.Helper()
		require.NoError(t, os.Lchown(p, uid, uid))
		return p
	}
	mkdir := func(t *testing.T, p string, mode os.FileMode) string {
		t.Helper()
		require.NoError(t, os.MkdirAll(p, 0o755))
		require.NoError(t, os.Chmod(p, mode))
		return p
	}
	for name, c := range map[string]struct {
		make func(t *testing.T, base string) (path, want string)
		fix  string // for a refusal: the advice given
	}{
		"root's directory": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, filepath.Join(base, "shared"), 0o755)
			return p, p
		}},
		"through a link of the user's": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, filepath.Join(base, "shared"), 0o755)
			l := filepath.Join(base, "link")
			require.NoError(t, os.Symlink(p, l))
			return chown(t, l, user), p
		}},
		"the user's own directory": {fix: "use a directory of your own", make: func(t *testing.T, base string) (string, string) {
			return chown(t, mkdir(t, filepath.Join(base, "mine"), 0o755), user), ""
		}},
		"root's directory others can write": {fix: "use a directory of your own", make: func(t *testing.T, base string) (string, string) {
			return mkdir(t, filepath.Join(base, "open"), 0o775), ""
		}},
		"a parent of the attacker's": {make: func(t *testing.T, base string) (string, string) {
			d := chown(t, mkdir(t, filepath.Join(base, "theirs"), 0o755), attacker)
			return mkdir(t, filepath.Join(d, "shared"), 0o755), ""
		}},
		"a link of the attacker's in a sticky directory": {make: func(t *testing.T, base string) (string, string) {
			p := mkdir(t, filepath.Join(base, "shared"), 0o755)
			sticky := mkdir(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky)
			l := filepath.Join(sticky, "link")
			require.NoError(t, os.Symlink(p, l))
			return chown(t, l, attacker), ""
		}},
		"missing": {make: func(t *testing.T, base string) (string, string) {
			return filepath.Join(base, "none"), ""
		}},
		"empty": {make: func(t *testing.T, base string) (string, string) { return "", "" }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base, err := filepath.EvalSymlinks(t.TempDir())
			require.NoError(t, err)
			path, want := c.make(t, base)
			got, err := checkOwnedBy(path, 0, user)
			if want == "" {
				require.Error(t, err, "%q was accepted as %s", path, got)
				assert.NotContains(t, err.Error(), "rm -rf", "no removal advised to a user who cannot remove it")
				if c.fix != "" {
					assert.Contains(t, err.Error(), c.fix)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// Review H: a user who is not root is never told to remove a directory
// that is not theirs ("/" included); the user's own directory that others
// can write may be removed.
func TestCheckAdviceForAnotherUser(t *testing.T) {
	t.Parallel()
	const user = 12345
	for _, dir := range []string{"/", os.TempDir()} {
		c := dirChecker{dir: dir, uid: user, owner: user}
		real, fi, err := c.resolve()
		require.NoError(t, err)
		err = c.checkOwn(real, fi)
		require.Error(t, err, dir)
		assert.NotContains(t, err.Error(), "rm -rf", dir)
		assert.Contains(t, err.Error(), "use a directory of your own, or have its owner", dir)
	}
}
