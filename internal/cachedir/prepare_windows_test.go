//go:build windows

package cachedir

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrepareRootedPathWindows: on Windows a rooted path without a
// volume ("\x", or "/x" as cross-platform scripts write it) is on the
// current drive, not under the working directory: Prepare checks, creates
// and finds that directory, so it never vouches for one it did not check.
func TestPrepareRootedPathWindows(t *testing.T) {
	base := t.TempDir()
	t.Setenv("LocalAppData", base)
	t.Chdir(base)      // the working directory under the user cache dir, e.g. %TEMP%
	out := t.TempDir() // not under the user cache dir: not to be trusted
	require.ErrorIs(t, Check(filepath.Join(out, "dl")), ErrNotPrivate)

	rooted := filepath.Join(out, "dl")[len(filepath.VolumeName(out)):] // `\Users\...\dl`
	want, err := filepath.Abs(rooted)
	require.NoError(t, err)
	got, err := absolute(rooted)
	require.NoError(t, err)
	assert.Equal(t, want, filepath.Clean(got), "absolute of a rooted path")

	err = Prepare(rooted)
	assert.ErrorIs(t, err, ErrNotPrivate, "Prepare vouched for %s, outside the user cache dir", want)
}

// TestPrepareDotDotAfterJunctionWindows: Windows removes ".." from a
// path's text before it follows a junction, so "<out>\j\..\cache" is
// <out>\cache whatever j points to, and that is what Prepare checks.
func TestPrepareDotDotAfterJunctionWindows(t *testing.T) {
	base := t.TempDir()
	t.Setenv("LocalAppData", base)
	out := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(base, "a", "b"), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(base, "a", "cache"), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(out, "cache"), 0o700)) // the other user's
	j := filepath.Join(out, "j")
	if b, err := exec.Command("cmd", "/c", "mklink", "/J", j, filepath.Join(base, "a", "b")).CombinedOutput(); err != nil {
		t.Skipf("mklink /J: %v: %s", err, b)
	}
	dir := j + `\..\cache`
	err := Prepare(dir)
	assert.ErrorIs(t, err, ErrNotPrivate, "Prepare vouched for %s, which Windows opens as %s", dir, filepath.Join(out, "cache"))
}
