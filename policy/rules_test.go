package policy_test

import (
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/policy"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func signed(san, issuer string, claims certificate.Extensions) attest.Evidence {
	ev := valid(0, san, issuer, attest.ChannelMatched)
	ev.Claims = &claims
	return ev
}

func TestIdentityRules(t *testing.T) {
	wf := "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1"
	claims := certificate.Extensions{
		SourceRepositoryURI: "https://github.com/o/r", SourceRepositoryIdentifier: "42", SourceRepositoryOwnerIdentifier: "7",
		SourceRepositoryRef: "refs/tags/v1", BuildSignerURI: "https://github.com/o/shared/.github/workflows/build.yml@refs/heads/main",
		RunnerEnvironment: "github-hosted",
	}
	selfHosted := claims
	selfHosted.RunnerEnvironment = "self-hosted"
	cases := []struct {
		name string
		id   policy.Identity
		ev   attest.Evidence
		want bool
	}{
		{"shorthand issuer", policy.Identity{SAN: "https://github.com/o/*", Issuer: "github"}, signed(wf, ghIssuer, claims), true},
		{"shorthand issuer mismatch", policy.Identity{SAN: "https://github.com/o/*", Issuer: "gitlab"}, signed(wf, ghIssuer, claims), false},
		{"issuer any", policy.Identity{SAN: "https://github.com/o/*", Issuer: "any"}, signed(wf, "https://example.com/oidc", claims), true},
		{"regex", policy.Identity{SANRegex: `https://github\.com/o/r/\.github/workflows/release\.yml@refs/tags/v[0-9]+`, Issuer: "github"}, signed(wf, ghIssuer, claims), true},
		{"regex is anchored", policy.Identity{SANRegex: `github\.com/o/r`, Issuer: "github"}, signed(wf, ghIssuer, claims), false},
		{"regex alternation anchors every branch", policy.Identity{SANRegex: `x|https://github\.com/o/.*`, Issuer: "github"}, signed("https://evil.example/?https://github.com/o/r", ghIssuer, claims), false},
		{"regex alternation stays anchored", policy.Identity{SANRegex: `x|https://github\.com/o/.*`, Issuer: "github"}, signed(wf+"\nextra", ghIssuer, claims), false},
		{"repository ID", policy.Identity{SAN: "*", Issuer: "github", RepositoryID: "42"}, signed(wf, ghIssuer, claims), true},
		{"repository ID mismatch", policy.Identity{SAN: "*", Issuer: "github", RepositoryID: "43"}, signed(wf, ghIssuer, claims), false},
		{"owner ID", policy.Identity{SAN: "*", Issuer: "github", OwnerID: "7"}, signed(wf, ghIssuer, claims), true},
		{"owner ID mismatch", policy.Identity{SAN: "*", Issuer: "github", OwnerID: "8"}, signed(wf, ghIssuer, claims), false},
		{"source repository pattern", policy.Identity{SAN: "*", Issuer: "github", SourceRepository: "https://github.com/o/*"}, signed(wf, ghIssuer, claims), true},
		{"source repository pattern mismatch", policy.Identity{SAN: "*", Issuer: "github", SourceRepository: "https://github.com/other/*"}, signed(wf, ghIssuer, claims), false},
		{"tags only", policy.Identity{SAN: "*", Issuer: "github", SourceRef: "refs/tags/*"}, signed(wf, ghIssuer, claims), true},
		{"main only", policy.Identity{SAN: "*", Issuer: "github", SourceRef: "refs/heads/main"}, signed(wf, ghIssuer, claims), false},
		{"reusable build signer", policy.Identity{SAN: "*", Issuer: "github", BuildSigner: "https://github.com/o/shared/*"}, signed(wf, ghIssuer, claims), true},
		{"build signer mismatch", policy.Identity{SAN: "*", Issuer: "github", BuildSigner: "https://github.com/o/r/*"}, signed(wf, ghIssuer, claims), false},
		{"hosted runner", policy.Identity{SAN: "*", Issuer: "github", RunnerEnvironment: "github-hosted"}, signed(wf, ghIssuer, claims), true},
		{"self-hosted refused", policy.Identity{SAN: "*", Issuer: "github", RunnerEnvironment: "github-hosted"}, signed(wf, ghIssuer, selfHosted), false},
		{"runner constraint, claim absent", policy.Identity{SAN: "*", Issuer: "github", RunnerEnvironment: "github-hosted"}, signed(wf, ghIssuer, certificate.Extensions{SourceRepositoryURI: "https://github.com/o/r"}), false},
		{"repository ID constraint, claim absent", policy.Identity{SAN: "*", Issuer: "github", RepositoryID: "42"}, signed(wf, ghIssuer, certificate.Extensions{SourceRepositoryURI: "https://github.com/o/r"}), false},
		{"ref pattern *, claim absent", policy.Identity{SAN: "*", Issuer: "github", SourceRef: "refs/tags/*"}, signed(wf, ghIssuer, certificate.Extensions{}), false},
		{"claim constraint without claims", policy.Identity{SAN: "*", Issuer: "github", RepositoryID: "42"}, valid(0, wf, ghIssuer, attest.ChannelMatched), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := policy.Compile(policy.Policy{Identities: []policy.Identity{c.id}})
			require.NoError(t, err)
			_, ok := e.Trusted(c.ev)
			assert.Equal(t, c.want, ok)
		})
	}
}

func TestIdentityCheck(t *testing.T) {
	for _, c := range []struct {
		id  policy.Identity
		msg string
	}{
		{policy.Identity{Issuer: "github"}, "without identity"},
		{policy.Identity{SAN: "a", SANRegex: "b", Issuer: "github"}, "keep one"},
		{policy.Identity{SANRegex: "(", Issuer: "github"}, "identity_regex"},
		{policy.Identity{SANRegex: "x)|(.*", Issuer: "github"}, "identity_regex"}, // would escape the anchors
		{policy.Identity{SANRegex: `\Qabc`, Issuer: "github"}, "identity_regex"},  // would quote the group's end
		{policy.Identity{SAN: "a"}, "issuer: any"},
		{policy.Identity{SAN: "a", Issuer: "githbu"}, "neither a URL nor a known shorthand"},
	} {
		assert.ErrorContains(t, c.id.Check(), c.msg, "%+v", c.id)
	}
	assert.NoError(t, policy.Identity{SAN: "a", Issuer: "any"}.Check())
}

func TestEffectivePolicyResolvesShorthands(t *testing.T) {
	ids := []policy.Identity{{SAN: "x", Issuer: "github"}}
	e, err := policy.Compile(policy.Policy{Identities: ids})
	require.NoError(t, err)
	assert.Equal(t, ghIssuer, e.Effective().Identities[0].Issuer)
	assert.Equal(t, "github", ids[0].Issuer, "the caller's slice is not modified")
}

func TestChannelURL(t *testing.T) {
	for in, want := range map[string]string{
		"conda-forge":                        "https://conda.anaconda.org/conda-forge",
		"conda-forge/":                       "https://conda.anaconda.org/conda-forge",
		"bioconda/label/dev":                 "https://conda.anaconda.org/bioconda/label/dev",
		"HTTPS://Prefix.DEV:443/my-channel/": "https://prefix.dev/my-channel",
		"https://u:p@conda.anaconda.org/t/tk-1/conda-forge": "https://conda.anaconda.org/conda-forge",
		"http://localhost:8080/chan":                        "http://localhost:8080/chan",
	} {
		got, err := conda.ChannelURL(in, "")
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	got, err := conda.ChannelURL("conda-forge", "https://mirror.example.org/conda/")
	require.NoError(t, err)
	assert.Equal(t, "https://mirror.example.org/conda/conda-forge", got)
	_, err = conda.ChannelURL("", "")
	assert.Error(t, err)
}

func mustFor(t testing.TB, r *policy.CompiledConfig, channel string) policy.Match {
	t.Helper()
	m, err := r.For(channel)
	require.NoError(t, err)
	return m
}

func TestRulesForUnparseableChannel(t *testing.T) {
	r := rulesFor(t, policy.Config{Default: &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{Identities: trusted}}})
	_, err := r.For("https://other.example.org/x%zz")
	assert.Error(t, err, "no rule, and no channel to compare targetChannel with")
}

func rulesFor(t *testing.T, c policy.Config) *policy.CompiledConfig {
	t.Helper()
	r, err := policy.CompileConfig(c)
	require.NoError(t, err)
	return r
}

func entry(ch string, enabled bool, mode policy.Mode) policy.ChannelPolicy {
	return policy.ChannelPolicy{Channel: ch, Enabled: enabled, Policy: policy.Policy{Require: mode, Identities: trusted}}
}

func TestRulesForChannel(t *testing.T) {
	cf := entry("conda-forge", true, policy.ModeError)
	cf.Mirrors = []string{"https://prefix.dev/conda-forge"}
	r := rulesFor(t, policy.Config{Channels: []policy.ChannelPolicy{
		cf,
		entry("conda-forge/label/dev", true, policy.ModeWarn),
		entry("https://prefix.dev/private", false, ""),
	}})
	cases := []struct {
		channel, entry, canonical string
		enabled                   bool
	}{
		{"https://conda.anaconda.org/conda-forge", "conda-forge", "https://conda.anaconda.org/conda-forge", true},
		{"https://conda.anaconda.org/conda-forge/", "conda-forge", "https://conda.anaconda.org/conda-forge", true},
		{"HTTPS://CONDA.ANACONDA.ORG:443/t/tok/conda-forge", "conda-forge", "https://conda.anaconda.org/conda-forge", true},
		{"https://conda.anaconda.org/conda-forge/label/dev", "conda-forge/label/dev", "https://conda.anaconda.org/conda-forge/label/dev", true},
		{"https://conda.anaconda.org/conda-forge/label/other", "conda-forge", "https://conda.anaconda.org/conda-forge", true},
		{"https://prefix.dev/conda-forge", "conda-forge", "https://conda.anaconda.org/conda-forge", true},
		{"https://conda.anaconda.org/conda-forge-staging", "", "https://conda.anaconda.org/conda-forge-staging", false},
		{"https://prefix.dev/private", "https://prefix.dev/private", "https://prefix.dev/private", false},
		{"https://prefix.dev/private-other", "", "https://prefix.dev/private-other", false},
	}
	for _, c := range cases {
		m := mustFor(t, r, c.channel)
		assert.Equal(t, c.entry, m.Entry, c.channel)
		assert.Equal(t, c.canonical, m.Channel, c.channel)
		assert.Equal(t, c.enabled, m.Enabled, c.channel)
		assert.NotEqual(t, policy.CodeNoPolicy, m.Decide(policy.Input{NotAdvertised: true}).Reasons[0].Code, c.channel)
	}

	withDefault := rulesFor(t, policy.Config{Channels: []policy.ChannelPolicy{cf}, Default: &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{Require: policy.ModeWarn, Identities: trusted}}})
	m := mustFor(t, withDefault, "https://conda.anaconda.org/conda-forge-staging")
	assert.Equal(t, policy.CatchAll, m.Entry)
	assert.True(t, m.Enabled)
	assert.Equal(t, policy.ModeWarn, m.Effective().Require)
	assert.Equal(t, "https://conda.anaconda.org/conda-forge-staging", m.Channel)
}

func TestCompileConfigErrors(t *testing.T) {
	_, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{
		entry("conda-forge", true, "strict"),
		{Channel: "bioconda", Enabled: true, Policy: policy.Policy{Require: policy.ModeError}},
		entry("https://conda.anaconda.org/conda-forge/", true, policy.ModeError),
	}})
	require.Error(t, err)
	assert.ErrorContains(t, err, `channel "conda-forge": require: unknown mode "strict"`)
	assert.ErrorContains(t, err, `channel "bioconda": no trusted identities`)
	assert.ErrorContains(t, err, "merge the two entries")

	// A disabled channel needs no identities.
	_, err = policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{{Channel: "x", Enabled: false}}})
	assert.NoError(t, err)
}
