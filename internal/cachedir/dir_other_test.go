//go:build !unix

package cachedir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithin(t *testing.T) {
	base := filepath.Join(t.TempDir(), "cache")
	assert.True(t, within(base, base))
	assert.True(t, within(filepath.Join(base, "condasigs", "verdicts"), base))
	assert.False(t, within(filepath.Dir(base), base))
	assert.False(t, within(base+"2", base))
	assert.False(t, within(filepath.Join(base, "..", "other"), base))
}

// Only directories under the user cache directory are trusted.
func TestCheckCacheDirOther(t *testing.T) {
	base := t.TempDir()
	t.Setenv("LocalAppData", base) // Windows
	t.Setenv("XDG_CACHE_HOME", base)
	t.Setenv("home", base) // Plan 9
	ucd, err := os.UserCacheDir()
	if err != nil {
		require.ErrorIs(t, Check(filepath.Join(base, "c")), ErrNotPrivate)
		return
	}
	require.NoError(t, Check(filepath.Join(ucd, "condasigs", "new")))
	require.ErrorIs(t, Check(t.TempDir()), ErrNotPrivate)
}
