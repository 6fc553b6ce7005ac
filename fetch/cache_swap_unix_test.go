//go:build unix

package fetch_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/testfs"
)

// TestDirCacheNotFollowedThroughLinkInItsPlace: once a checked cache
// directory in a sticky directory is gone (a tmp cleaner, or the "rm -rf"
// an error advises), another user can put a link of their own in its
// place, to any private directory of the user's. A cache opened before
// then checks the path again when it finds another directory there, so it
// neither reads from nor writes into what the link points to.
func TestDirCacheNotFollowedThroughLinkInItsPlace(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	base := t.TempDir()
	tmp := testfs.MkdirMode(t, filepath.Join(base, "tmp"), 0o777|os.ModeSticky, -1)
	// Another private directory of the victim's (stands for ~/.ssh,
	// another cache, ...).
	elsewhere := testfs.MkdirMode(t, filepath.Join(base, "home", "v", "other"), 0o700, -1)
	dir := filepath.Join(tmp, "cache")
	cache := mustDirCache(t, dir)

	key := digestOf([]byte("k"))
	// Something of the victim's sits in the other directory at a key's place.
	sub := testfs.MkdirMode(t, filepath.Join(elsewhere, key[:2]), 0o700, -1)
	require.NoError(t, os.WriteFile(filepath.Join(sub, key), []byte("not from this cache"), 0o600))

	require.NoError(t, os.RemoveAll(dir))
	testfs.Symlink(t, elsewhere, dir, testfs.ForeignUID) // the other user's link

	_, err := fetch.NewDirCache(dir)
	require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate, "a fresh check refuses the foreign link")

	got, err := cache.Get(ctx, key)
	assert.ErrorIs(t, err, fetch.ErrCacheMiss, "read %q through another user's link", got)

	other := digestOf([]byte("other"))
	err = cache.Put(ctx, other, []byte("written through the link"))
	assert.Error(t, err)
	assert.NoFileExists(t, filepath.Join(elsewhere, other[:2], other), "written through another user's link")
}
