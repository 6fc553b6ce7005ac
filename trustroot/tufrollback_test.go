package trustroot_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/testlog"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

// memoryOnlyCaches are the ways a TUF source keeps its updates in memory
// only: each returns the options of a source following repo, and is
// called before the repository publishes anything after its first
// version.
func memoryOnlyCaches() map[string]func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions {
	return map[string]func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions{
		"cache disabled": func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions {
			opts := tufOptions(repo, filepath.Join(t.TempDir(), "cache"))
			opts.DisableCache = true
			return opts
		},
		// The cache holds the first version, older than all that follows.
		"read-only cache": func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions {
			cache := t.TempDir()
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			chmodTree(t, cache, 0o555, 0o444)
			t.Cleanup(func() { chmodTree(t, cache, 0o755, 0o644) })
			return tufOptions(repo, cache)
		},
		"cache others can write": func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions {
			cache := t.TempDir()
			require.NoError(t, os.Chmod(cache, 0o777))
			return tufOptions(repo, cache)
		},
	}
}

// Review E, finding 1: a source whose updates are kept in memory only
// (cache disabled, read-only or unusable) refuses metadata older than
// those it trusts, served by a hostile mirror that replays an earlier
// state of the repository, still validly signed and unexpired: the last
// good root stays, LastError and the log say why. A later, newer
// publication is taken as usual.
func TestTUFMemoryRollbackRefused(t *testing.T) {
	t.Parallel()
	for name, options := range memoryOnlyCaches() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := tufrepo.New(t, publicGoodRoot) // version 1
			opts := options(t, repo)
			repo.Publish(stagingRoot) // version 2
			older := repo.Files()
			repo.Publish(publicGoodRoot) // version 3
			logger, logs := testlog.New()
			opts.Logger = logger
			src := newTUF(t, opts)
			good := snapshot(t, src)
			require.False(t, good.Info.FromCache)
			require.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(good.Material))

			newer := repo.Files()
			repo.SetFiles(older)
			err := src.Refresh(ctx)
			require.Error(t, err, "the mirror rolled the repository back to version 2, and the refresh took it")
			assert.ErrorContains(t, err, "rollback refused")
			assert.ErrorContains(t, err, "timestamp.json version 2 is older than version 3")
			assert.Same(t, good, snapshot(t, src), "a refused rollback must keep the last good snapshot")
			require.Error(t, src.LastError())
			assert.Contains(t, src.LastError().Error(), "rollback refused")
			assert.Contains(t, logs.String(), "older than those already trusted")

			// Forward again: version 4 is taken.
			repo.SetFiles(newer)
			repo.Publish(stagingRoot)
			require.NoError(t, src.Refresh(ctx))
			assert.NoError(t, src.LastError())
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
		})
	}
}

// Review E, finding 1, across a root rotation: a mirror that replays the
// repository as it was before the rotation (no newer root.json, metadata
// signed by the old keys, unexpired) does not take a source that keeps
// its updates in memory back to the old root and its keys: the update
// starts from the newest root trusted, held in memory.
func TestTUFMemoryRootRollbackRefused(t *testing.T) {
	t.Parallel()
	for name, options := range memoryOnlyCaches() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := tufrepo.New(t, publicGoodRoot) // root 1, version 1
			opts := options(t, repo)
			older := repo.Files()
			src := newTUF(t, opts)
			repo.RotateRoot() // root 2, version 2, old keys retired
			repo.Publish(stagingRoot)
			require.NoError(t, src.Refresh(ctx))
			good := snapshot(t, src)
			require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(good.Material))

			// The next update starts from root 2, held in memory: it asks
			// for root 3, not again for root 2.
			var mu sync.Mutex
			var asked []string
			repo.SetHook(func(r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, r.URL.Path)
			})
			require.NoError(t, src.Refresh(ctx))
			repo.SetHook(nil)
			mu.Lock()
			assert.Contains(t, asked, "/3.root.json")
			assert.NotContains(t, asked, "/2.root.json", "the update started again from the initial root")
			mu.Unlock()
			good = snapshot(t, src)

			newer := repo.Files()
			repo.SetFiles(older)
			require.Error(t, src.Refresh(ctx), "the mirror rolled the repository back to root 1 and its keys, and the refresh took it")
			assert.Same(t, good, snapshot(t, src))
			assert.Error(t, src.LastError())

			// Forward again: a further rotation and publication are taken.
			repo.SetFiles(newer)
			repo.RotateRoot()
			repo.Publish(publicGoodRoot)
			require.NoError(t, src.Refresh(ctx))
			assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
		})
	}
}
