package condasigstest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// The kit as a downstream test uses it: a served channel, packages signed
// by chosen identities, a Verifier on the kit's trusted material, and one
// knob for each failure a test wants.
func TestKnobs(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	ch.Serve(t)
	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
	require.NoError(t, err)
	v, err := condasigs.New(condasigs.Options{
		Trust: trust,
		Policy: policy.Policy{Identities: []policy.Identity{
			{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer},
		}},
	})
	require.NoError(t, err)

	cases := []struct {
		pkg     condasigstest.Package
		outcome policy.Outcome
		status  policy.Status
		code    string // the first reason's, or the bundle's
	}{
		{condasigstest.Package{Filename: "good-1.0-0.conda", Signer: ss}, policy.Pass, policy.StatusVerified, ""},
		{condasigstest.Package{Filename: "nopred-1.0-0.conda", Signer: ss, NoPredicate: true}, policy.Pass, policy.StatusVerified, ""},
		{condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true}, policy.Fail, policy.StatusUnsigned, "unsigned"},
		{condasigstest.Package{Filename: "tampered-1.0-0.conda", Signer: ss, TamperSidecar: true}, policy.Fail, policy.StatusRetrievalFailure, "hash-mismatch"},
		{condasigstest.Package{Filename: "missing-1.0-0.conda", Signer: ss, NoSidecarFile: true}, policy.Fail, policy.StatusRetrievalFailure, "not-found"},
		{condasigstest.Package{Filename: "wronghash-1.0-0.conda", Signer: ss, RecordSHA256: "ab00000000000000000000000000000000000000000000000000000000000000"}, policy.Fail, policy.StatusVerificationFailure, "subject-digest"},
		{condasigstest.Package{Filename: "stranger-1.0-0.conda", Signer: ss, Identity: "https://github.com/stranger/x/.github/workflows/r.yml@refs/heads/main"}, policy.Fail, policy.StatusVerificationFailure, "untrusted-identity"},
		{condasigstest.Package{Filename: "replayed-1.0-0.conda", Signer: ss, ReplayOf: "good-1.0-0.conda"}, policy.Fail, policy.StatusVerificationFailure, "subject-name"},
		{condasigstest.Package{Filename: "elsewhere-1.0-0.conda", Signer: ss, TargetChannel: "https://conda.example.com/other"}, policy.Fail, policy.StatusVerificationFailure, "target-channel-mismatch"},
	}
	for _, c := range cases {
		ch.Add(t, c.pkg)
	}
	for _, c := range cases {
		t.Run(c.pkg.Filename, func(t *testing.T) {
			rep, err := v.Verify(context.Background(), ch.Package(c.pkg.Filename))
			require.NoError(t, err)
			assert.Equal(t, c.outcome, rep.Outcome, "%+v", rep.Reasons)
			assert.Equal(t, c.status, rep.Status)
			if c.code == "" {
				assert.Empty(t, rep.Reasons)
				return
			}
			codes := []string{}
			for _, r := range rep.Reasons {
				codes = append(codes, string(r.Code))
			}
			for _, b := range rep.Bundles {
				codes = append(codes, string(b.Code))
			}
			assert.Contains(t, codes, c.code)
		})
	}
}

// The trusted material of a Sigstore is the same document every time, so
// that caches keyed by its digest work.
func TestTrustIsStable(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	assert.Equal(t, ss.TrustedRootJSON(t), ss.TrustedRootJSON(t))
	srcA, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
	require.NoError(t, err)
	a, err := srcA.Snapshot(context.Background())
	require.NoError(t, err)
	srcB, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
	require.NoError(t, err)
	b, err := srcB.Snapshot(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, a.Info.Digest)
	assert.Equal(t, a.Info.Digest, b.Info.Digest)
}
