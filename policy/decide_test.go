package policy_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
)

func codesOf(d policy.Decision) []policy.Code {
	var out []policy.Code
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// A disabled channel passes with a note; an unconfigured one warns, since
// the entries may have missed a spelling of it. Neither looks at the input.
func TestDecideDisabled(t *testing.T) {
	rules, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{
		{Channel: "conda-forge"},
		{Channel: "x", Enabled: true, Policy: policy.Policy{Identities: trusted}},
	}})
	require.NoError(t, err)
	in := policy.Input{NotAdvertised: true, ArtifactMismatch: errors.New("other bytes")}
	m := mustFor(t, rules, "conda-forge")
	require.False(t, m.Enabled)
	d := m.Decide(in)
	assert.Equal(t, policy.Pass, d.Outcome)
	assert.Equal(t, policy.StatusDisabled, d.Status)
	assert.Equal(t, []policy.Code{policy.CodeNotChecked}, codesOf(d))
	assert.Contains(t, d.Reasons[0].Message, `"conda-forge"`)

	m = mustFor(t, rules, "https://h/other")
	require.False(t, m.Enabled)
	d = m.Decide(in)
	assert.Equal(t, policy.Warn, d.Outcome)
	assert.Equal(t, policy.StatusDisabled, d.Status)
	assert.Equal(t, []policy.Code{policy.CodeNotConfigured}, codesOf(d))
	assert.Contains(t, d.Reasons[0].Message, "https://h/other")

	d = mustFor(t, rules, "x").Decide(policy.Input{NotAdvertised: true})
	assert.Equal(t, policy.Fail, d.Outcome, "an enabled match decides by its policy")
	assert.Equal(t, []policy.Code{policy.CodeUnsigned}, codesOf(d))

	// A disabled catch-all.
	rules, err = policy.CompileConfig(policy.Config{Default: &policy.ChannelPolicy{}})
	require.NoError(t, err)
	d = mustFor(t, rules, "https://h/other").Decide(in)
	assert.Equal(t, policy.Pass, d.Outcome)
	assert.Equal(t, []policy.Code{policy.CodeNotChecked}, codesOf(d))
}

// Bytes that are not the record's fail whatever the require mode and
// whatever the attestations say; a lock mismatch is named first.
func TestDecideMismatches(t *testing.T) {
	good := valid(0, trustedWF, ghIssuer, attest.ChannelMatched)
	for _, mode := range []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore} {
		e, err := policy.Compile(policy.Policy{Require: mode, Identities: trusted})
		require.NoError(t, err)
		for _, c := range []struct {
			in   policy.Input
			want policy.Code
		}{
			{policy.Input{Bundles: []attest.Evidence{good}, ArtifactMismatch: errors.New("other bytes")}, policy.CodeArtifactMismatch},
			{policy.Input{NotAdvertised: true, LockMismatch: errors.New("other sha256")}, policy.CodeLockMismatch},
			{policy.Input{Bundles: []attest.Evidence{good}, LockMismatch: errors.New("lock"), ArtifactMismatch: errors.New("art")}, policy.CodeLockMismatch},
		} {
			d := e.Decide(c.in)
			assert.Equal(t, policy.Fail, d.Outcome, mode)
			assert.Equal(t, policy.StatusVerificationFailure, d.Status)
			assert.Equal(t, []policy.Code{c.want}, codesOf(d))
			assert.Equal(t, policy.SeverityError, d.Reasons[0].Severity)
			assert.Empty(t, d.Accepted)
			assert.Nil(t, d.PinCandidate)
		}
	}
}

// The trusted root's age and a download are notes after the verdict's
// reasons; a warning among them turns a pass into a warning, never a
// failure into anything else.
func TestDecideNotes(t *testing.T) {
	good := valid(0, trustedWF, ghIssuer, attest.ChannelMatched)
	e, err := policy.Compile(policy.Policy{Identities: trusted})
	require.NoError(t, err)
	ok := policy.Input{Bundles: []attest.Evidence{good}}

	in := ok
	in.TrustRootStale = errors.New("last updated 9 days ago")
	d := e.Decide(in)
	assert.Equal(t, policy.Warn, d.Outcome)
	assert.Equal(t, policy.StatusVerified, d.Status)
	assert.Equal(t, []policy.Code{policy.CodeTrustRootStale}, codesOf(d))
	assert.Equal(t, []int{0}, d.Accepted, "a note accepts what was accepted")

	in = ok
	in.TrustRootAgeUnknown = errors.New("no record")
	assert.Equal(t, []policy.Code{policy.CodeTrustRootAgeUnknown}, codesOf(e.Decide(in)))

	for _, c := range []struct {
		dl   policy.Download
		want policy.Outcome
		sev  policy.Severity
	}{
		{policy.Download{SHA256: "ab", Kept: true}, policy.Pass, policy.SeverityInfo},
		{policy.Download{SHA256: "ab", MD5Checked: true}, policy.Pass, policy.SeverityInfo},
		{policy.Download{SHA256: "ab"}, policy.Warn, policy.SeverityWarning},
	} {
		in = ok
		in.Downloaded = &c.dl
		d = e.Decide(in)
		assert.Equal(t, c.want, d.Outcome, "%+v", c.dl)
		require.Equal(t, []policy.Code{policy.CodePackageDownloaded}, codesOf(d))
		assert.Equal(t, c.sev, d.Reasons[0].Severity)
		assert.Contains(t, d.Reasons[0].Message, "sha256 ab")
	}

	in = policy.Input{NotAdvertised: true, TrustRootStale: errors.New("old")}
	d = e.Decide(in)
	assert.Equal(t, policy.Fail, d.Outcome)
	assert.Equal(t, []policy.Code{policy.CodeUnsigned, policy.CodeTrustRootStale}, codesOf(d))
}

// A nil policy (that of a hand-made Match) fails, whatever the input:
// nothing says what to accept.
func TestDecideWithoutPolicyFails(t *testing.T) {
	for _, in := range []policy.Input{{}, {NotAdvertised: true}, {ArtifactMismatch: errors.New("other bytes")}} {
		for _, m := range []policy.Match{{Entry: "x", Enabled: true}, {}} {
			d := m.Decide(in)
			assert.Equal(t, policy.Fail, d.Outcome)
			assert.Equal(t, []policy.Code{policy.CodeNoPolicy}, codesOf(d))
		}
	}
}
