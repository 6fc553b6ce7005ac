package policy_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	ghIssuer  = "https://token.actions.githubusercontent.com"
	trustedWF = "https://github.com/conda-forge/numpy-feedstock/.github/workflows/build.yml@refs/heads/main"
)

var trusted = []policy.Identity{{SAN: "https://github.com/conda-forge/*", Issuer: ghIssuer}}

func valid(i int, san, issuer string, ch attest.ChannelMatch) attest.Evidence {
	return attest.Evidence{Index: i, Verified: true, SignatureVerified: true, SAN: san, Issuer: issuer,
		PredicateType: attest.PublishPredicateType, ChannelMatch: ch, TargetChannel: "https://conda.anaconda.org/conda-forge"}
}

func invalid(i int, code attest.Code) attest.Evidence {
	return attest.Evidence{Index: i, Code: code, Message: string(code) + " failed"}
}

func unknownPredicate(i int) attest.Evidence {
	return attest.Evidence{Index: i, SignatureVerified: true, Code: attest.CodePredicateType, SAN: trustedWF, Issuer: ghIssuer,
		PredicateType: "https://slsa.dev/provenance/v1"}
}

// TestRequireTable covers every cell of the require table and the other
// situations a package can be in, for each require mode.
func TestRequireTable(t *testing.T) {
	type want struct {
		outcome policy.Outcome
		status  policy.Status
	}
	type situation struct {
		name    string
		in      policy.Input
		cm, unk policy.Mode
		// outcome per require mode: error, warn, ignore
		want   [3]policy.Outcome
		status policy.Status
		codes  []string // reason codes expected (any mode)
	}
	pass, warn, fail := policy.Pass, policy.Warn, policy.Fail
	good := valid(0, trustedWF, ghIssuer, attest.ChannelMatched)
	cases := []situation{
		{name: "missing", in: policy.Input{NotAdvertised: true},
			want: [3]policy.Outcome{fail, warn, pass}, status: policy.StatusUnsigned},
		{name: "retrieval failure", in: policy.Input{RetrievalFailure: errors.New("404"), RetrievalFailureCode: "not-found"},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusRetrievalFailure, codes: []string{"not-found"}},
		{name: "record unavailable", in: policy.Input{RecordUnavailable: errors.New("not in repodata")},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusRetrievalFailure, codes: []string{"record-unavailable"}},
		{name: "verification failure", in: policy.Input{Bundles: []attest.Evidence{invalid(0, attest.CodeSignature)}},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle", "signature"}},
		{name: "identity mismatch", in: policy.Input{Bundles: []attest.Evidence{valid(0, "https://github.com/conda-forge-evil/x/.github/workflows/a.yml@refs/heads/main", ghIssuer, attest.ChannelMatched)}},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle", "untrusted-identity"}},
		{name: "issuer mismatch", in: policy.Input{Bundles: []attest.Evidence{valid(0, trustedWF, "https://gitlab.com", attest.ChannelMatched)}},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle", "untrusted-identity"}},
		{name: "verified", in: policy.Input{Bundles: []attest.Evidence{good}},
			want: [3]policy.Outcome{pass, pass, pass}, status: policy.StatusVerified},
		{name: "verified, no predicate", in: policy.Input{Bundles: []attest.Evidence{valid(0, trustedWF, ghIssuer, attest.ChannelAbsent)}},
			want: [3]policy.Outcome{pass, pass, pass}, status: policy.StatusVerified},
		{name: "mixed valid and invalid", in: policy.Input{Bundles: []attest.Evidence{invalid(0, attest.CodeSubjectName), valid(1, trustedWF, ghIssuer, attest.ChannelMatched)}},
			want: [3]policy.Outcome{warn, warn, warn}, status: policy.StatusVerified, codes: []string{"subject-name"}},
		{name: "trusted beside untrusted", in: policy.Input{Bundles: []attest.Evidence{valid(0, "someone@example.com", "https://accounts.google.com", attest.ChannelMatched), good}},
			want: [3]policy.Outcome{pass, pass, pass}, status: policy.StatusVerified, codes: []string{"untrusted-identity"}},
		{name: "channel mismatch, error", cm: policy.ModeError, in: policy.Input{Bundles: []attest.Evidence{valid(0, trustedWF, ghIssuer, attest.ChannelMismatched)}},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle", "target-channel-mismatch"}},
		{name: "channel mismatch, warn", cm: policy.ModeWarn, in: policy.Input{Bundles: []attest.Evidence{valid(0, trustedWF, ghIssuer, attest.ChannelMismatched)}},
			want: [3]policy.Outcome{warn, warn, warn}, status: policy.StatusVerified, codes: []string{"target-channel-mismatch"}},
		{name: "channel mismatch, ignore", cm: policy.ModeIgnore, in: policy.Input{Bundles: []attest.Evidence{valid(0, trustedWF, ghIssuer, attest.ChannelMismatched)}},
			want: [3]policy.Outcome{pass, pass, pass}, status: policy.StatusVerified},
		{name: "unknown predicate alone", in: policy.Input{Bundles: []attest.Evidence{unknownPredicate(0)}},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle", "unknown-predicate"}},
		{name: "unknown predicate ignored", unk: policy.ModeIgnore, in: policy.Input{Bundles: []attest.Evidence{unknownPredicate(0), valid(1, trustedWF, ghIssuer, attest.ChannelMatched)}},
			want: [3]policy.Outcome{pass, pass, pass}, status: policy.StatusVerified, codes: []string{"unknown-predicate"}},
		{name: "unknown predicate warned", unk: policy.ModeWarn, in: policy.Input{Bundles: []attest.Evidence{unknownPredicate(0), valid(1, trustedWF, ghIssuer, attest.ChannelMatched)}},
			want: [3]policy.Outcome{warn, warn, warn}, status: policy.StatusVerified, codes: []string{"unknown-predicate"}},
		{name: "unknown predicate rejected", unk: policy.ModeError, in: policy.Input{Bundles: []attest.Evidence{unknownPredicate(0), valid(1, trustedWF, ghIssuer, attest.ChannelMatched)}},
			want: [3]policy.Outcome{fail, warn, warn}, status: policy.StatusVerificationFailure, codes: []string{"unknown-predicate"}},
	}
	modes := []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore}
	for _, c := range cases {
		for i, mode := range modes {
			t.Run(fmt.Sprintf("%s/require=%s", c.name, mode), func(t *testing.T) {
				e, err := policy.Compile(policy.Policy{Require: mode, Identities: trusted, ChannelMismatch: c.cm, UnknownPredicate: c.unk})
				require.NoError(t, err)
				d := e.Decide(c.in)
				got := want{d.Outcome, d.Status}
				assert.Equal(t, want{c.want[i], c.status}, got, "reasons: %+v", d.Reasons)
				var codes []string
				for _, r := range d.Reasons {
					codes = append(codes, string(r.Code))
					assert.NotEmpty(t, r.Rule, "every reason names its rule")
					assert.NotEmpty(t, r.Message)
				}
				for _, code := range c.codes {
					assert.Contains(t, codes, code)
				}
				if d.Outcome == policy.Pass && d.Status != policy.StatusVerified {
					assert.Empty(t, d.Reasons, "a silent pass has no reasons")
				}
				if d.Status == policy.StatusVerified {
					assert.NotEmpty(t, d.Accepted)
				} else {
					assert.Empty(t, d.Accepted)
				}
			})
		}
	}
}

func TestAcceptedRecordsMatchedIdentity(t *testing.T) {
	e, err := policy.Compile(policy.Policy{Identities: append([]policy.Identity{{SAN: "nobody", Issuer: ghIssuer}}, trusted...)})
	require.NoError(t, err)
	d := e.Decide(policy.Input{Bundles: []attest.Evidence{invalid(0, attest.CodeTransparencyLog), valid(1, trustedWF, ghIssuer, attest.ChannelMatched)}})
	require.Equal(t, []int{1}, d.Accepted)
	assert.Equal(t, trusted[0], d.Signers[1])
	require.Len(t, d.Reasons, 1)
	require.NotNil(t, d.Reasons[0].Bundle)
	assert.Equal(t, 0, *d.Reasons[0].Bundle)
	assert.Equal(t, policy.SeverityWarning, d.Reasons[0].Severity)
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name string
		p    policy.Policy
		msg  string
	}{
		{"no identities", policy.Policy{}, "no trusted identities"},
		{"identity without issuer", policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/x/*"}}}, "has no issuer"},
		{"identity without SAN", policy.Policy{Identities: []policy.Identity{{Issuer: ghIssuer}}}, "without identity"},
		{"bad require", policy.Policy{Require: "strict", Identities: trusted}, `require: unknown mode "strict"`},
		{"bad channel mismatch", policy.Policy{ChannelMismatch: "maybe", Identities: trusted}, "channel_mismatch"},
		{"bad unknown predicate", policy.Policy{UnknownPredicate: "no", Identities: trusted}, "unknown_predicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := policy.Compile(c.p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}

func TestDefaultsAreStrict(t *testing.T) {
	e, err := policy.Compile(policy.Policy{Identities: trusted})
	require.NoError(t, err)
	p := e.Effective()
	assert.Equal(t, policy.ModeError, p.Require)
	assert.Equal(t, policy.ModeError, p.ChannelMismatch)
	assert.Equal(t, policy.ModeIgnore, p.UnknownPredicate)
}

// The binding checks (a record that contradicts its file name, a lock
// entry that binds no digest) fail the package under require: error and
// warn under warn and ignore, whatever the attestations say; a failed
// package accepts no bundle and pins no signer. Their reason comes first.
func TestBindingChecks(t *testing.T) {
	good := valid(0, trustedWF, ghIssuer, attest.ChannelMatched)
	bases := map[string]policy.Input{
		"verified":          {Bundles: []attest.Evidence{good}},
		"missing":           {NotAdvertised: true},
		"retrieval failure": {RetrievalFailure: errors.New("404"), RetrievalFailureCode: "not-found"},
		"invalid bundle":    {Bundles: []attest.Evidence{invalid(0, attest.CodeSignature)}},
	}
	checks := map[policy.Code]func(*policy.Input){
		policy.CodeRecordInconsistent: func(in *policy.Input) { in.Inconsistent = errors.New("the name differs") },
		policy.CodeLockUnbound:        func(in *policy.Input) { in.Unbound = errors.New("no sha256") },
	}
	for baseName, base := range bases {
		for code, set := range checks {
			for i, mode := range []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore} {
				e, err := policy.Compile(policy.Policy{Require: mode, Identities: trusted, Pinning: policy.ModeWarn})
				require.NoError(t, err)
				plain := e.Decide(base)
				in := base
				set(&in)
				d := e.Decide(in)
				name := fmt.Sprintf("%s, %s, require %s", baseName, code, mode)
				require.NotEmpty(t, d.Reasons, name)
				assert.Equal(t, code, d.Reasons[0].Code, name)
				assert.Equal(t, plain.Reasons, d.Reasons[1:], "%s: the other reasons are kept", name)
				if i == 0 {
					assert.Equal(t, policy.Fail, d.Outcome, name)
					assert.Equal(t, policy.SeverityError, d.Reasons[0].Severity, name)
					assert.Empty(t, d.Accepted, name)
					assert.Nil(t, d.PinCandidate, name)
					if plain.Outcome != policy.Fail {
						assert.Equal(t, policy.StatusVerificationFailure, d.Status, name)
					} else {
						assert.Equal(t, plain.Status, d.Status, name)
					}
					continue
				}
				want := plain.Outcome
				if want == policy.Pass {
					want = policy.Warn
				}
				assert.Equal(t, want, d.Outcome, name)
				assert.Equal(t, policy.SeverityWarning, d.Reasons[0].Severity, name)
				assert.Equal(t, plain.Status, d.Status, name)
				assert.Equal(t, plain.Accepted, d.Accepted, name)
				assert.Nil(t, d.PinCandidate, "%s: no signer is learnt from a package whose attestations are not about what gets installed", name)
			}
		}
	}
}
