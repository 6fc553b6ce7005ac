package trustroot_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

// A new root that lists the same timestamp key under a new key ID (another
// encoding) has rotated nothing: a mirror without any key, replaying older
// metadata with its signatures' key IDs (which are not signed) relabelled
// to the new ID, is refused as a rollback, and the newer root stays.
func TestTUFRelabeledKeyNoRollback(t *testing.T) {
	caches := memoryOnlyCaches()
	caches["writable cache"] = func(t *testing.T, repo *tufrepo.Repo) trustroot.TUFOptions {
		return tufOptions(repo, filepath.Join(t.TempDir(), "cache"))
	}
	for name, options := range caches {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			repo := tufrepo.New(t, publicGoodRoot)
			repo.SetNextVersion(5)
			repo.Publish(publicGoodRoot)
			older := repo.Files() // old, still unexpired state (v5)
			src := newTUF(t, options(t, repo))
			repo.SetNextVersion(1000)
			repo.Publish(stagingRoot)
			require.NoError(t, src.Refresh(ctx))
			require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))

			ids := repo.ReencodeKeys(metadata.TIMESTAMP) // root 2, same keys
			// The mirror (no keys): the old state and root 2, the
			// signatures' key IDs relabelled.
			files := older
			files["2.root.json"] = repo.File("2.root.json")
			id := ids[metadata.TIMESTAMP]
			files["timestamp.json"] = bytes.ReplaceAll(files["timestamp.json"], []byte(id[0]), []byte(id[1]))
			repo.SetFiles(files)
			require.Error(t, src.Refresh(ctx), "timestamp 1000 -> 5 from a mirror holding no key")
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material), "the newer root stays")
		})
	}
}
