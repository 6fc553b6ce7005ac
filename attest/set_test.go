package attest_test

import (
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSetVerifiesAgainstTheIssuingInstance: with several instances trusted,
// each bundle verifies against the instance whose CA issued it, and a bundle
// that mixes two instances (certificate of one, log entry of the other)
// fails, although pooled material would accept it.
func TestSetVerifiesAgainstTheIssuingInstance(t *testing.T) {
	a, b := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	st := condasigstest.Statement(vFilename, vSHA, vChannel)
	subject := attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel}
	fromA := a.Bundle(t, vSAN, vIssuer, st)
	fromB := b.Bundle(t, vSAN, vIssuer, st)
	mixed := a.BundleLoggedBy(t, b, vSAN, vIssuer, st)

	set, err := attest.NewVerifier(instances(a.TrustedMaterial(), b.TrustedMaterial()))
	require.NoError(t, err)
	assert.True(t, set.VerifyBundle(0, fromA, subject).Verified)
	assert.True(t, set.VerifyBundle(0, fromB, subject).Verified)
	ev := set.VerifyBundle(0, mixed, subject)
	assert.False(t, ev.Verified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code, ev.Message)

	pooled, err := attest.NewVerifier(root.TrustedMaterialCollection{a.TrustedMaterial(), b.TrustedMaterial()})
	require.NoError(t, err)
	assert.True(t, pooled.VerifyBundle(0, mixed, subject).Verified, "the mixed bundle is what pooling lets through")

	onlyA, err := attest.NewVerifier(instances(a.TrustedMaterial()))
	require.NoError(t, err)
	ev = onlyA.VerifyBundle(0, fromB, subject)
	assert.False(t, ev.Verified)
	assert.Equal(t, attest.CodeCertificate, ev.Code)
	assert.Contains(t, ev.Message, "none of the trusted roots")
}

// TestSetWithRealRoots: the real bundles verify against a set of the
// public-good, staging and GitHub roots, each against its own instance.
func TestSetWithRealRoots(t *testing.T) {
	set, err := attest.NewVerifier(instances(
		fixtures.TrustedRoot(fixtures.GitHubRootFile),
		fixtures.TrustedRoot(fixtures.StagingRootFile),
		fixtures.TrustedRoot(fixtures.PublicGoodRootFile),
	))
	require.NoError(t, err)
	assert.Equal(t, 0, set.Thresholds().SignedCertificateTimestamps, "the weakest member's: GitHub's instance has no CT log")
	ev := set.VerifyBundle(0, fixtures.Read(fixtures.BundleFile), realSubject)
	assert.True(t, ev.Verified, ev.Message)
	assert.Equal(t, "https://rekor.sigstore.dev", ev.LogEntries[0].LogURL)
	ev = set.VerifyBundle(0, fixtures.Read(fixtures.StagingBundleFile), attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel})
	assert.True(t, ev.Verified, ev.Message)
}

// multiRoot is trusted material of several instances, as trustroot builds it:
// package attest knows it by its Members method.
type multiRoot struct{ root.TrustedMaterialCollection }

func (s multiRoot) Members() []root.TrustedMaterial { return s.TrustedMaterialCollection }

func instances(tms ...root.TrustedMaterial) multiRoot { return multiRoot{tms} }
