//go:build unix

package cachedir_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/testfs"
)

// The entries of a directory that is not trusted (the CLI's sidecars in a
// cache directory that fails the check): the user's own private entries
// are read, others are misses, and nothing is ever written or removed.
func TestReadOnlyEntries(t *testing.T) {
	ctx := context.Background()
	dir := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "sidecars"), 0o777, -1)
	require.ErrorIs(t, cachedir.Check(dir), cachedir.ErrNotPrivate, "control: the directory fails")
	const mine, planted = "ab0001", "ab0002"
	testfs.MkdirMode(t, filepath.Join(dir, "ab"), 0o700, -1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ab", mine), []byte("mine"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ab", planted), []byte("planted"), 0o600))
	require.NoError(t, os.Chmod(filepath.Join(dir, "ab", planted), 0o666))

	e := cachedir.ReadOnlyEntries(dir)
	got, err := e.Get(ctx, mine)
	require.NoError(t, err)
	assert.Equal(t, []byte("mine"), got)
	_, err = e.Get(ctx, planted)
	assert.ErrorIs(t, err, cachedir.ErrMiss)

	require.NoError(t, e.Put(ctx, "cd0001", []byte("x")))
	assert.NoDirExists(t, filepath.Join(dir, "cd"), "nothing written")
	e.Remove(mine)
	assert.FileExists(t, filepath.Join(dir, "ab", mine), "nothing removed")
}

// OpenEntries refuses what Prepare refuses, and creates nothing then.
func TestOpenEntriesPrepares(t *testing.T) {
	parent := testfs.MkdirMode(t, filepath.Join(t.TempDir(), "p"), 0o777, -1)
	e, err := cachedir.OpenEntries(filepath.Join(parent, "c"))
	require.ErrorIs(t, err, cachedir.ErrNotPrivate)
	assert.Nil(t, e)
	assert.NoDirExists(t, filepath.Join(parent, "c"))

	dir := filepath.Join(t.TempDir(), "new", "c")
	e, err = cachedir.OpenEntries(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, e.Dir())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}
