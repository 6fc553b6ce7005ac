package policy_test

import (
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
)

// A signer whose SAN and issuer match a trusted identity but whose claims
// do not is told which claim, with its value and the one wanted.
func TestUntrustedIdentityNamesTheClaim(t *testing.T) {
	ev := valid(0, trustedWF, ghIssuer, attest.ChannelMatched)
	ev.Claims = &certificate.Extensions{SourceRepositoryURI: "https://github.com/conda-forge/numpy-feedstock", SourceRepositoryRef: "refs/heads/main",
		SourceRepositoryIdentifier: "1", SourceRepositoryOwnerIdentifier: "2", BuildSignerURI: trustedWF, RunnerEnvironment: "self-hosted"}
	base := policy.Identity{SAN: "https://github.com/conda-forge/*", Issuer: "github"}
	for _, tc := range []struct {
		name string
		set  func(*policy.Identity)
		want string
	}{
		{"source ref", func(id *policy.Identity) { id.SourceRef = "refs/tags/*" }, `but its source_ref is "refs/heads/main", not "refs/tags/*"`},
		{"repository", func(id *policy.Identity) { id.SourceRepository = "https://github.com/other/*" }, `its source_repository is "https://github.com/conda-forge/numpy-feedstock", not "https://github.com/other/*"`},
		{"build signer", func(id *policy.Identity) { id.BuildSigner = "https://github.com/x/*" }, `its build_signer is "` + trustedWF + `", not "https://github.com/x/*"`},
		{"repository id", func(id *policy.Identity) { id.RepositoryID = "9" }, `its repository_id is "1", not "9"`},
		{"owner id", func(id *policy.Identity) { id.OwnerID = "9" }, `its owner_id is "2", not "9"`},
		{"runner", func(id *policy.Identity) { id.RunnerEnvironment = "github-hosted" }, `it matches https://github.com/conda-forge/* (issuer ` + ghIssuer + `) but its runner_environment is "self-hosted", not "github-hosted"`},
	} {
		id := base
		tc.set(&id)
		e, err := policy.Compile(policy.Policy{Identities: []policy.Identity{id}})
		require.NoError(t, err)
		d := e.Decide(policy.Input{Bundles: []attest.Evidence{ev}})
		assert.Equal(t, policy.Fail, d.Outcome, tc.name)
		var msgs []string
		for _, r := range d.Reasons {
			if r.Code == policy.CodeUntrustedIdentity {
				msgs = append(msgs, r.Message)
			}
		}
		require.Len(t, msgs, 1, tc.name)
		assert.Contains(t, msgs[0], "which matches no trusted identity: it matches", tc.name)
		assert.Contains(t, msgs[0], tc.want, tc.name)
	}

	// A claim the certificate lacks is said to be absent.
	noClaims := valid(0, trustedWF, ghIssuer, attest.ChannelMatched)
	e, err := policy.Compile(policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/conda-forge/*", Issuer: "github", SourceRef: "refs/tags/*"}}})
	require.NoError(t, err)
	d := e.Decide(policy.Input{Bundles: []attest.Evidence{noClaims}})
	assert.Contains(t, reasonText(d), `its source_ref is absent, not "refs/tags/*"`)

	// A SAN or issuer that matches no identity gets no claim explanation.
	e, err = policy.Compile(policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/other/*", Issuer: "github", SourceRef: "refs/tags/*"}}})
	require.NoError(t, err)
	d = e.Decide(policy.Input{Bundles: []attest.Evidence{ev}})
	assert.Contains(t, reasonText(d), "which matches no trusted identity")
	assert.NotContains(t, reasonText(d), "it matches")
}

func reasonText(d policy.Decision) string {
	var s string
	for _, r := range d.Reasons {
		s += r.Message + "\n"
	}
	return s
}
