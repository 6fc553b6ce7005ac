package trustroot_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// The digest names the exact bytes of the trusted root, whatever the
// source; caches key verdicts by it.
func TestInfoDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, staging := fixtures.Read(fixtures.PublicGoodRootFile), fixtures.Read(fixtures.StagingRootFile)
	digest := func(s trustroot.Source) string {
		t.Helper()
		snap, err := s.Snapshot(ctx)
		require.NoError(t, err)
		return snap.Info.Digest
	}

	file, err := trustroot.FromFile(writeFile(t, "pg.json", pg))
	require.NoError(t, err)
	assert.Equal(t, sha256Digest(pg), digest(file))
	js, err := trustroot.FromJSON(staging)
	require.NoError(t, err)
	assert.Equal(t, sha256Digest(staging), digest(js))

	// A set depends on every member and on their order.
	pgPath, stPath := writeFile(t, "a.json", pg), writeFile(t, "b.json", staging)
	ab, err := trustroot.FromFile(pgPath, stPath)
	require.NoError(t, err)
	ba, err := trustroot.FromFile(stPath, pgPath)
	require.NoError(t, err)
	aa, err := trustroot.FromFile(pgPath, pgPath)
	require.NoError(t, err)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, digest(ab))
	assert.NotEqual(t, digest(ab), digest(ba))
	assert.NotEqual(t, digest(ab), digest(aa))
	assert.NotEqual(t, digest(file), digest(aa))

	// Combine: known only when every member's is.
	assert.Equal(t, digest(ab), digest(trustroot.Combine(file, js)))
	static := trustroot.NewStatic(fixtures.TrustedRoot(fixtures.PublicGoodRootFile), "memory")
	assert.Empty(t, digest(static), "material built in memory has no known bytes")
	assert.Empty(t, digest(trustroot.Combine(file, static)))

	// TUF: the target's bytes, and a new digest after a new target.
	repo := tufrepo.New(t, pg)
	src := newTUF(t, tufOptions(repo, t.TempDir()))
	assert.Equal(t, sha256Digest(pg), digest(src))
	repo.Publish(staging)
	require.NoError(t, src.Refresh(ctx))
	assert.Equal(t, sha256Digest(staging), digest(src))
}
