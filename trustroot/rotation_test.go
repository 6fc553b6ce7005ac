package trustroot_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/condasigs/condasigs/internal/tufrepo"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTUFRotationReachesVerification: a TUF repository rotates its trusted
// root from instance A to instance B. After the refresh, a bundle signed by
// B verifies and one signed by A (a removed key) no longer does.
func TestTUFRotationReachesVerification(t *testing.T) {
	t.Parallel()
	a, b := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	const filename = "demo-1.0-0.conda"
	sum := sha256.Sum256([]byte("demo"))
	subject := attest.Subject{Filename: filename, SHA256: hex.EncodeToString(sum[:])}
	statement := condasigstest.Statement(filename, subject.SHA256, "")
	fromA := a.Bundle(t, "dev@example.com", "https://accounts.google.com", statement)
	fromB := b.Bundle(t, "dev@example.com", "https://accounts.google.com", statement)

	repo := tufrepo.New(t, a.TrustedRootJSON(t))
	src := newTUF(t, tufOptions(repo, t.TempDir()))
	verified := func(bundle []byte) bool {
		v, err := attest.NewVerifier(snapshot(t, src).Material)
		require.NoError(t, err)
		return v.VerifyBundle(0, bundle, subject).Verified
	}
	assert.True(t, verified(fromA))
	assert.False(t, verified(fromB))

	repo.Publish(b.TrustedRootJSON(t))
	require.NoError(t, src.Refresh(context.Background()))
	assert.True(t, verified(fromB), "signed with the new key")
	assert.False(t, verified(fromA), "signed with the removed key")
}
