package trustroot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/testlog"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

// Review F, finding 1: TUF 5.3.11, fast-forward attack recovery. An
// attacker holding the online keys makes clients trust version 1000; the
// repository recovers with a root that rotates the keys, and versions
// that start again at 1. A long-running source follows, whether its
// updates are kept in memory only or in a cache it writes, as a new one
// does; rollbacks signed by the keys in use are still refused, before the
// recovery and after it.
func TestTUFFastForwardRecovery(t *testing.T) {
	t.Parallel()
	caches := memoryOnlyCaches()
	caches["writable cache"] = func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions {
		return tufOptions(repo, filepath.Join(t.TempDir(), "cache"))
	}
	for name, options := range caches {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := tufrepo.New(t, publicGoodRoot) // version 1
			opts := options(t, repo)
			logger, logs := testlog.New()
			opts.Logger = logger
			src := newTUF(t, opts)

			// The fast-forward: version 1000, signed by the online keys.
			repo.SetNextVersion(1000)
			repo.Publish(stagingRoot)
			require.NoError(t, src.Refresh(ctx))
			forwarded := snapshot(t, src)
			require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(forwarded.Material))

			// Lower versions signed by the same keys are a rollback.
			repo.SetNextVersion(2)
			repo.Publish(publicGoodRoot)
			require.Error(t, src.Refresh(ctx), "version 2 signed by the keys in use taken after version 1000")
			assert.Same(t, forwarded, snapshot(t, src))

			// The recovery: root 2 rotates every key, versions start again.
			repo.SetNextVersion(1)
			repo.RotateRoot() // version 1 under the new keys, publicGoodRoot
			require.NoError(t, src.Refresh(ctx), "the repository's recovery from a fast-forward refused as a rollback")
			assert.NoError(t, src.LastError())
			assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
			assert.Contains(t, logs.String(), "recovery from a fast-forward attack")
			older := repo.Files()
			repo.Publish(stagingRoot) // version 2
			require.NoError(t, src.Refresh(ctx))
			recovered := snapshot(t, src)
			require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(recovered.Material))

			// A new source takes the recovered repository too.
			fresh := newTUF(t, opts)
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, fresh).Material))

			// Under the new keys, versions bind again.
			newer := repo.Files()
			repo.SetFiles(older)
			require.Error(t, src.Refresh(ctx), "version 1 taken after version 2, both under the new keys")
			assert.Same(t, recovered, snapshot(t, src))
			repo.SetFiles(newer)
			repo.Publish(publicGoodRoot) // version 3
			require.NoError(t, src.Refresh(ctx))
			assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
		})
	}
}

// Review F, finding 1, role by role: versions that start again after a
// fast-forward are taken when the new root rotated the timestamp or the
// snapshot keys (TUF 5.3.11 deletes the trusted timestamp and snapshot
// metadata, and with the snapshot the targets version it bounds), and
// refused when it rotated only the targets or root keys, or none: those
// leave the trusted timestamp and snapshot valid, and their versions
// binding. Memory only: go-tuf, reading a cache, keeps whichever of the
// two still verifies (see TestTUFFastForwardRecovery for a cache).
func TestTUFFastForwardRecoveryKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rotate []string
		follow bool
	}{
		{[]string{metadata.TIMESTAMP}, true},
		{[]string{metadata.SNAPSHOT}, true},
		{[]string{metadata.TIMESTAMP, metadata.SNAPSHOT}, true},
		{[]string{metadata.TARGETS}, false},
		{[]string{metadata.ROOT}, false},
		{[]string{metadata.ROOT, metadata.TARGETS}, false},
		{nil, false},
	} {
		name := "new root, same keys"
		if len(tc.rotate) > 0 {
			name = "rotate " + strings.Join(tc.rotate, " ")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := tufrepo.New(t, publicGoodRoot)
			opts := tufOptions(repo, "")
			opts.DisableCache = true
			src := newTUF(t, opts)
			repo.SetNextVersion(1000)
			repo.Publish(stagingRoot)
			require.NoError(t, src.Refresh(ctx))
			forwarded := snapshot(t, src)

			repo.SetNextVersion(1)
			repo.RotateKeys(tc.rotate...)
			err := src.Refresh(ctx)
			if tc.follow {
				require.NoError(t, err)
				assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
				assert.NotSame(t, forwarded, snapshot(t, src))
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, "rollback refused: timestamp.json version 1 is older than version 1000")
			assert.Same(t, forwarded, snapshot(t, src))
		})
	}
}
