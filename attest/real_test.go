package attest_test

import (
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/stretchr/testify/require"
)

func TestRealPublicGood(t *testing.T) {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	require.NoError(t, err)
	evs, err := v.VerifySidecar(fixtures.Sidecar(fixtures.BundleFile), attest.Subject{
		Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.Channel})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	t.Logf("%+v", evs[0])
	require.True(t, evs[0].Verified, evs[0].Message)
}

func TestRealStaging(t *testing.T) {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.StagingRootFile))
	require.NoError(t, err)
	evs, err := v.VerifySidecar(fixtures.Sidecar(fixtures.StagingBundleFile), attest.Subject{
		Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel})
	require.NoError(t, err)
	t.Logf("%+v", evs[0])
	require.True(t, evs[0].Verified, evs[0].Message)
}
