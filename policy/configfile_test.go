package policy_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/policy"
)

// fullConfig is what testdata/config-full.{yaml,json} hold.
var fullConfig = policy.Config{
	ChannelAlias: "https://conda.anaconda.org",
	Channels: []policy.ChannelPolicy{
		{
			Channel: "conda-forge",
			Enabled: true,
			Policy: policy.Policy{
				Require: policy.ModeError,
				Identities: []policy.Identity{{
					SAN:               "https://github.com/conda-forge/*",
					Issuer:            "github", // shorthands stay as written
					SourceRepository:  "https://github.com/conda-forge/*",
					SourceRef:         "refs/heads/main",
					BuildSigner:       "https://github.com/conda-forge/*",
					RunnerEnvironment: "github-hosted",
				}},
				ChannelMismatch:  policy.ModeError,
				UnknownPredicate: policy.ModeIgnore,
			},
		},
		{
			Channel: "https://conda.example.com/my-org",
			Enabled: true,
			Mirrors: []string{"https://mirror.example.com/my-org"},
			Policy: policy.Policy{
				Require: policy.ModeWarn,
				Identities: []policy.Identity{{
					SANRegex:     `https://gitlab\.com/my-org/[a-z-]+//\.gitlab-ci\.yml@refs/tags/v.*`,
					Issuer:       "gitlab",
					RepositoryID: "12345",
					OwnerID:      "6789",
				}},
				ChannelMismatch:  policy.ModeWarn,
				UnknownPredicate: policy.ModeWarn,
				Pinning:          policy.ModeWarn,
			},
		},
		{
			Channel: "bioconda",
			Enabled: false,
			Policy:  policy.Policy{Require: policy.ModeIgnore, Identities: []policy.Identity{}},
		},
	},
	Default: &policy.ChannelPolicy{
		Channel: policy.CatchAll,
		Enabled: true,
		Policy: policy.Policy{
			Require:    policy.ModeWarn,
			Identities: []policy.Identity{{SAN: "https://github.com/*", Issuer: "https://token.actions.githubusercontent.com"}},
		},
	},
}

func TestParseConfigFull(t *testing.T) {
	for _, file := range []string{"testdata/config-full.yaml", "testdata/config-full.json"} {
		t.Run(filepath.Ext(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			cfg, err := policy.ParseConfig(file, data)
			require.NoError(t, err)
			assert.Equal(t, fullConfig, cfg)

			loaded, err := policy.LoadConfig(file)
			require.NoError(t, err)
			assert.Equal(t, cfg, loaded)

			rules, err := policy.CompileConfig(cfg)
			require.NoError(t, err)
			m := mustFor(t, rules, "https://mirror.example.com/my-org/label/main")
			assert.Equal(t, "https://conda.example.com/my-org", m.Entry)
			assert.True(t, m.Enabled)
			assert.Equal(t, policy.ModeWarn, m.Effective().Pinning)
			assert.False(t, mustFor(t, rules, "bioconda").Enabled)
			assert.Equal(t, policy.CatchAll, mustFor(t, rules, "https://prefix.dev/other").Entry)
		})
	}
}

// doc joins lines, so that line n of the document is lines[n-1].
func doc(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

const okIdentities = `    trusted_identities: [{identity: "https://github.com/o/*", issuer: github}]`

// configErrors returns the *ConfigErrors joined in err.
func configErrors(t *testing.T, err error) []*policy.ConfigError {
	t.Helper()
	require.Error(t, err)
	var out []*policy.ConfigError
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *policy.ConfigError
		require.True(t, errors.As(e, &ce), "%T is not a *ConfigError: %v", e, e)
		out = append(out, ce)
	}
	return out
}

type wantErr struct {
	line, col int
	field     string
	hint      string // a substring of the message, usually the fix
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []wantErr
	}{
		// Required settings, never defaulted.
		{"missing enabled", doc(
			"attestations:",
			"  conda-forge:",
			"    require: error",
			okIdentities,
		), []wantErr{{2, 3, "attestations.conda-forge.enabled", "add enabled: true"}}},
		{"missing require", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			okIdentities,
		), []wantErr{{2, 3, "attestations.conda-forge.require", "add require: error"}}},
		{"missing trusted_identities", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: false",
			"    require: ignore",
		), []wantErr{{2, 3, "attestations.conda-forge.trusted_identities", "add trusted_identities"}}},
		{"all three missing", doc(
			"attestations:",
			"  conda-forge: {}",
		), []wantErr{
			{2, 3, "attestations.conda-forge.enabled", "there is no default"},
			{2, 3, "attestations.conda-forge.require", "there is no default"},
			{2, 3, "attestations.conda-forge.trusted_identities", "[] only with enabled: false"},
		}},
		{"enabled without identities", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities: []",
		), []wantErr{{5, 25, "attestations.conda-forge.trusted_identities", "or set enabled: false"}}},
		{"missing attestations", doc(
			"channel_alias: https://conda.anaconda.org",
		), []wantErr{{1, 1, "attestations", "add an attestations: mapping"}}},
		{"no channel entries", doc(
			"attestations: {}",
		), []wantErr{{1, 1, "attestations", "add one per channel"}}},
		{"empty document", "# nothing here\n", []wantErr{{0, 0, "", "the configuration is empty"}}},

		// Unknown keys.
		{"unknown key typo", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			"    unknown_predicat: warn",
		), []wantErr{{6, 5, "attestations.conda-forge.unknown_predicat", `did you mean "unknown_predicate"?`}}},
		{"unknown key case", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			"    Channel_Mismatch: warn",
		), []wantErr{{6, 5, "attestations.conda-forge.Channel_Mismatch", `did you mean "channel_mismatch"?`}}},
		{"unknown key synonym", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity: https://github.com/o/*",
			"        issuer: github",
			"        workflow: https://github.com/o/r/.github/workflows/x.yml@refs/heads/main",
		), []wantErr{{8, 9, "attestations.conda-forge.trusted_identities[0].workflow", `did you mean "build_signer"?`}}},
		{"unknown key far from all", doc(
			"channels: [conda-forge]",
			"attestations:",
			"  conda-forge:",
			"    enabled: false",
			"    require: error",
			"    trusted_identities: []",
		), []wantErr{{1, 1, "channels", "the keys here are channel_alias, attestations"}}},
		{"channel entry at top level", doc(
			"conda-forge:",
			"  enabled: true",
		), []wantErr{
			{1, 1, "conda-forge", "channel entries go under attestations:"},
			{1, 1, "attestations", "add an attestations: mapping"},
		}},

		// Duplicate keys.
		{"duplicate channel", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: false",
			"    require: error",
			"    trusted_identities: []",
			"  conda-forge:",
			"    enabled: true",
		), []wantErr{{6, 3, "attestations.conda-forge", `duplicate key "conda-forge" (first at line 2)`}}},
		{"duplicate setting", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    require: warn",
			okIdentities,
		), []wantErr{{5, 5, "attestations.conda-forge.require", "keep one of the two"}}},
		{"duplicate in JSON", doc(
			`{"attestations": {"c": {"enabled": false, "require": "warn",`,
			`  "trusted_identities": [], "enabled": true}}}`,
		), []wantErr{{2, 29, "attestations.c.enabled", `duplicate key "enabled" (first at line 1)`}}},

		// Wrong types.
		{"string for bool", doc(
			"attestations:",
			"  conda-forge:",
			`    enabled: "true"`,
			"    require: error",
			okIdentities,
		), []wantErr{{3, 14, "attestations.conda-forge.enabled", "must be true or false, unquoted"}}},
		{"yes for bool", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: yes",
			"    require: error",
			okIdentities,
		), []wantErr{{3, 14, "attestations.conda-forge.enabled", `not "yes"`}}},
		{"mapping for list", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      identity: https://github.com/o/*",
			"      issuer: github",
		), []wantErr{{6, 7, "attestations.conda-forge.trusted_identities", "must be a list of trusted identities"}}},
		{"number as issuer", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity: https://github.com/o/*",
			"        issuer: 42",
		), []wantErr{{7, 17, "attestations.conda-forge.trusted_identities[0].issuer", `quote it: "42"`}}},
		{"string for list", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			"    mirrors: https://prefix.dev/conda-forge",
		), []wantErr{{6, 14, "attestations.conda-forge.mirrors", "write [https://prefix.dev/conda-forge]"}}},
		{"string for identity", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities: [https://github.com/o/*]",
		), []wantErr{{5, 26, "attestations.conda-forge.trusted_identities[0]", "must be a mapping with identity (or identity_regex) and issuer"}}},
		{"scalar for channel entry", doc(
			"attestations:",
			"  conda-forge: true",
		), []wantErr{{2, 16, "attestations.conda-forge", "must be a mapping with enabled, require and trusted_identities"}}},
		{"list for attestations", doc(
			"attestations: [conda-forge]",
		), []wantErr{{1, 15, "attestations", "must be a mapping of channel names or URLs"}}},
		{"not a mapping", doc(
			"- attestations",
		), []wantErr{{1, 1, "", "must be a mapping with an attestations: key"}}},
		{"empty value", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require:",
			okIdentities,
		), []wantErr{{4, 13, "attestations.conda-forge.require", "empty: give error, warn or ignore"}}},
		{"empty string", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity: https://github.com/o/*",
			"        issuer: github",
			`        source_ref: ""`,
		), []wantErr{{8, 21, "attestations.conda-forge.trusted_identities[0].source_ref", "or remove the key"}}},
		{"number key", doc(
			"attestations:",
			"  123:",
			"    enabled: false",
			"    require: error",
			"    trusted_identities: []",
		), []wantErr{{2, 3, "attestations.123", `quote it ("123")`}}},
		{"leading-zero id", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity: https://github.com/o/*",
			"        issuer: github",
			"        repository_id: 0123",
		), []wantErr{{8, 24, "attestations.conda-forge.trusted_identities[0].repository_id", `quote it: "0123"`}}},

		// Modes.
		{"unknown mode", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: fail",
			okIdentities,
		), []wantErr{{4, 14, "attestations.conda-forge.require", "use error, warn or ignore"}}},
		{"pin ignore", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			"    pin: ignore",
		), []wantErr{{6, 10, "attestations.conda-forge.pin", "remove pin to turn pinning off"}}},
		{"pin unknown", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			"    pin: always",
		), []wantErr{{6, 10, "attestations.conda-forge.pin", "use error or warn"}}},

		// Identities (Identity.Check, at the identity's line).
		{"identity without issuer", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity: https://github.com/o/*",
		), []wantErr{{6, 9, "attestations.conda-forge.trusted_identities[0]", "write issuer: any"}}},
		{"unknown issuer shorthand", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity: https://github.com/o/*",
			"        issuer: githb",
		), []wantErr{{6, 9, "attestations.conda-forge.trusted_identities[0]", `did you mean "github"?`}}},
		{"identity and regex", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - {identity: a, identity_regex: b, issuer: any}",
		), []wantErr{{6, 9, "attestations.conda-forge.trusted_identities[0]", "keep one"}}},
		{"neither identity nor regex", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - issuer: github",
		), []wantErr{{6, 9, "attestations.conda-forge.trusted_identities[0]", "give the signer's certificate identity"}}},
		{"regex escaping its anchors", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			"    trusted_identities:",
			"      - identity_regex: 'x)|(.*'",
			"        issuer: github",
		), []wantErr{{6, 25, "attestations.conda-forge.trusted_identities[0].identity_regex", "not a valid regular expression"}}},

		// Channels and mirrors.
		{"channel alias not a URL", doc(
			"channel_alias: conda.anaconda.org",
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
		), []wantErr{{1, 16, "channel_alias", "such as https://conda.anaconda.org"}}},
		{"bad mirror", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			`    mirrors: ["https://"]`,
		), []wantErr{{6, 15, "attestations.conda-forge.mirrors[0]", "write a URL such as"}}},
		{"mirror of itself", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: true",
			"    require: error",
			okIdentities,
			"    mirrors: [https://conda.anaconda.org/conda-forge/]",
		), []wantErr{{6, 15, "attestations.conda-forge.mirrors[0]", "is the same channel as the channel itself: remove it"}}},
		{"catch-all with mirrors", doc(
			"attestations:",
			`  "*":`,
			"    enabled: true",
			"    require: warn",
			okIdentities,
			"    mirrors: [https://prefix.dev/x]",
		), []wantErr{{6, 14, "attestations.*.mirrors", "cannot have mirrors"}}},
		{"two entries for one channel (CompileConfig)", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: false",
			"    require: error",
			"    trusted_identities: []",
			"  https://CONDA.anaconda.org:443/Conda-Forge/:",
			"    enabled: false",
			"    require: error",
			"    trusted_identities: []",
		), []wantErr{{6, 3, "attestations.https://CONDA.anaconda.org:443/Conda-Forge/", `is also covered by entry "conda-forge"; merge the two entries`}}},
		{"credentials redacted", doc(
			"attestations:",
			"  https://user:secret@h.example/t/tk-123/ch:",
			"    require: error",
			"    trusted_identities: []",
		), []wantErr{{2, 3, "attestations.https://h.example/t/REDACTED/ch.enabled", "add enabled"}}},

		// YAML features refused, and syntax errors.
		{"alias", doc(
			"attestations:",
			"  a: &policy",
			"    enabled: false",
			"    require: ignore",
			"    trusted_identities: []",
			"  b: *policy",
		), []wantErr{{6, 6, "attestations.b", "aliases are not supported"}}},
		{"merge key", doc(
			"attestations:",
			"  a:",
			"    <<: {enabled: false}",
			"    enabled: false",
			"    require: ignore",
			"    trusted_identities: []",
		), []wantErr{{3, 5, "attestations.a", "merge keys (<<) are not supported"}}},
		{"second document", doc(
			"attestations:",
			"  a:",
			"    enabled: false",
			"    require: ignore",
			"    trusted_identities: []",
			"---",
			"attestations: {}",
		), []wantErr{{6, 1, "", "remove the --- separator"}}},
		{"syntax error", doc(
			"attestations:",
			"  a:",
			"    enabled: false",
			"    require: error: warn",
		), []wantErr{{4, 0, "", "YAML syntax error: mapping values are not allowed"}}},
		{"syntax error later in a block", doc(
			"attestations:",
			"  a:",
			"    trusted_identities:",
			"      - identity: x",
			"      issuer: github",
		), []wantErr{{5, 0, "", "YAML syntax error"}}},
		{"unquoted catch-all", doc(
			"attestations:",
			"  conda-forge:",
			"    enabled: false",
			"  *:",
			"    enabled: true",
		), []wantErr{{4, 0, "", `quote the catch-all key: "*":`}}},
		{"tab indentation", doc(
			"attestations:",
			"  conda-forge:",
			"\tenabled: false",
		), []wantErr{{3, 0, "", "indent with spaces, not tabs"}}},
		{"JSON", doc(
			`{`,
			`  "attestations": {`,
			`    "conda-forge": {`,
			`      "enabled": true,`,
			`      "trusted_identities": [{"identity": "https://github.com/o/*", "issuer": "github"}]`,
			`    }`,
			`  }`,
			`}`,
		), []wantErr{{3, 5, "attestations.conda-forge.require", "add require: error"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := policy.ParseConfig("cfg.yaml", []byte(c.doc))
			assert.Equal(t, policy.Config{}, cfg)
			got := configErrors(t, err)
			require.Len(t, got, len(c.want), "%v", err)
			for i, w := range c.want {
				g := got[i]
				assert.Equal(t, "cfg.yaml", g.File)
				assert.Equal(t, w.line, g.Line, "line of %v", g)
				assert.Equal(t, w.col, g.Column, "column of %v", g)
				assert.Equal(t, w.field, g.Field, "field of %v", g)
				assert.Contains(t, g.Msg, w.hint)
			}
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "tk-123")
		})
	}
}

func TestParseConfigReportsEveryProblem(t *testing.T) {
	_, err := policy.ParseConfig("condasigs.yaml", []byte(doc(
		"attestations:",
		"  conda-forge:",
		"    enabled: true",
		"    require: eror",
		okIdentities,
		"  bioconda:",
		"    enabled: false",
		"    trusted_identities: []",
		"  my-org:",
		"    enabled: true",
		"    require: warn",
		"    trusted_identities:",
		"      - identity: https://gitlab.com/my-org/*",
		"    mirors: [https://prefix.dev/my-org]",
	)))
	got := configErrors(t, err)
	var lines []string
	for _, e := range got {
		lines = append(lines, fmt.Sprintf("%d:%d %s", e.Line, e.Column, e.Field))
	}
	assert.Equal(t, []string{
		"4:14 attestations.conda-forge.require",
		"6:3 attestations.bioconda.require",
		"13:9 attestations.my-org.trusted_identities[0]",
		"14:5 attestations.my-org.mirors",
	}, lines)
	msgs := strings.Split(err.Error(), "\n")
	require.Len(t, msgs, 4)
	assert.Equal(t, `condasigs.yaml:4:14: attestations.conda-forge.require: unknown mode "eror": use error, warn or ignore`, msgs[0])
	assert.Equal(t, `condasigs.yaml:14:5: attestations.my-org.mirors: unknown key "mirors": did you mean "mirrors"?`, msgs[3])
}

// Anchors alone expand nothing and are accepted; the catch-all may be
// disabled; identities of a disabled channel are still checked.
func TestParseConfigAccepts(t *testing.T) {
	cfg, err := policy.ParseConfig("c.yaml", []byte(doc(
		"---",
		"attestations:",
		"  conda-forge: &cf",
		"    enabled: false",
		"    require: ignore",
		"    trusted_identities:",
		"      - {identity: x, issuer: any}",
		`  '*': {enabled: false, require: warn, trusted_identities: [], mirrors: []}`,
		"...",
	)))
	require.NoError(t, err)
	assert.Equal(t, policy.Config{
		Channels: []policy.ChannelPolicy{{Channel: "conda-forge", Policy: policy.Policy{
			Require: policy.ModeIgnore, Identities: []policy.Identity{{SAN: "x", Issuer: "any"}},
		}}},
		Default: &policy.ChannelPolicy{Channel: policy.CatchAll, Mirrors: []string{}, Policy: policy.Policy{
			Require: policy.ModeWarn, Identities: []policy.Identity{},
		}},
	}, cfg)

	_, err = policy.ParseConfig("c.yaml", []byte(doc(
		"attestations:",
		"  conda-forge:",
		"    enabled: false",
		"    require: ignore",
		"    trusted_identities:",
		"      - {identity: x, issuer: nope}",
	)))
	assert.ErrorContains(t, err, "c.yaml:6:9: attestations.conda-forge.trusted_identities[0]: ")
}

func TestConfigErrorFormat(t *testing.T) {
	for _, c := range []struct {
		e    policy.ConfigError
		want string
	}{
		{policy.ConfigError{File: "c.yaml", Line: 3, Column: 7, Field: "attestations.x.require", Msg: "use error"}, "c.yaml:3:7: attestations.x.require: use error"},
		{policy.ConfigError{File: "c.yaml", Line: 3, Msg: "YAML syntax error: x"}, "c.yaml:3: YAML syntax error: x"},
		{policy.ConfigError{File: "c.yaml", Msg: "empty"}, "c.yaml: empty"},
		{policy.ConfigError{Line: 1, Column: 2, Field: "f", Msg: "m"}, ":1:2: f: m"},
	} {
		assert.Equal(t, c.want, c.e.Error())
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()

	big := filepath.Join(dir, "big.yaml")
	data := []byte(doc("attestations:", "  conda-forge:", "    enabled: false", "    require: ignore", "    trusted_identities: []"))
	padding := strings.Repeat("# padding\n", policy.MaxConfigFileSize/10+1)
	require.NoError(t, os.WriteFile(big, append(data, padding...), 0o600))
	_, err := policy.LoadConfig(big)
	var ce *policy.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, big, ce.File)
	assert.Contains(t, ce.Msg, "larger than 1048576 bytes")

	// Exactly at the limit is fine.
	atLimit := filepath.Join(dir, "limit.yaml")
	require.NoError(t, os.WriteFile(atLimit, append(data, padding[:policy.MaxConfigFileSize-len(data)]...), 0o600))
	_, err = policy.LoadConfig(atLimit)
	require.NoError(t, err)

	_, err = policy.LoadConfig(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(doc("attestations:", "  conda-forge:", "    enabled: maybe")), 0o600))
	_, err = policy.LoadConfig(bad)
	assert.ErrorContains(t, err, bad+":3:14: attestations.conda-forge.enabled: must be true or false")
}

// A conda-forge-style configuration: conda-forge's packages must be signed
// by its GitHub Actions workflows on GitHub-hosted runners.
func ExampleParseConfig() {
	cfg, err := policy.ParseConfig("condasigs.yaml", []byte(`
attestations:
  conda-forge:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://github.com/conda-forge/*"
        issuer: github
        runner_environment: github-hosted
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rules, err := policy.CompileConfig(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, channel := range []string{
		"conda-forge",
		"https://conda.anaconda.org/conda-forge/label/dev",
		"https://conda.anaconda.org/conda-forge-staging",
	} {
		m, _ := rules.For(channel) // an error only for a channel that is not a URL or name
		fmt.Printf("%s: entry %q, enabled %v\n", channel, m.Entry, m.Enabled)
	}
	cf, _ := rules.For("conda-forge")
	d := cf.Decide(policy.Input{NotAdvertised: true})
	fmt.Println("unsigned:", d.Outcome, d.Reasons[0].Code)
	// Output:
	// conda-forge: entry "conda-forge", enabled true
	// https://conda.anaconda.org/conda-forge/label/dev: entry "conda-forge", enabled true
	// https://conda.anaconda.org/conda-forge-staging: entry "", enabled false
	// unsigned: fail unsigned
}

// A private channel served by two hosts, signed from GitLab CI, with
// identity pinning; other channels are checked by the catch-all, bioconda
// not at all.
func ExampleParseConfig_privateChannel() {
	cfg, err := policy.ParseConfig("condasigs.yaml", []byte(`
attestations:
  https://conda.example.com/my-org:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://gitlab.com/my-org/*"
        issuer: gitlab
        source_ref: "refs/tags/*"
    mirrors: [https://mirror.example.com/my-org]
    pin: error
  bioconda:
    enabled: false
    require: ignore
    trusted_identities: []
  "*":
    enabled: true
    require: warn
    trusted_identities:
      - {identity: "https://github.com/*", issuer: github}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rules, err := policy.CompileConfig(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := rules.For("https://mirror.example.com/my-org/t/secret-token/label/main")
	fmt.Println("entry:", m.Entry)
	fmt.Println("targetChannel:", m.Channel)
	fmt.Println("pin:", cfg.Channels[0].Pinning)
	bioconda, _ := rules.For("bioconda")
	fmt.Println("bioconda enabled:", bioconda.Enabled)
	other, _ := rules.For("https://prefix.dev/other")
	fmt.Println("other:", other.Entry, other.Decide(policy.Input{NotAdvertised: true}).Outcome)
	// Output:
	// entry: https://conda.example.com/my-org
	// targetChannel: https://conda.example.com/my-org
	// pin: error
	// bioconda enabled: false
	// other: * warn
}

// Every problem is reported with its file, line, column and setting, and
// says how to fix it.
func ExampleParseConfig_errors() {
	_, err := policy.ParseConfig("condasigs.yaml", []byte(`
attestations:
  conda-forge:
    enabled: true
    requir: error
    trusted_identities:
      - identity: "https://github.com/conda-forge/*"
`))
	fmt.Println(err)
	// Output:
	// condasigs.yaml:3:3: attestations.conda-forge.require: missing: add require: error (refuse packages without valid attestations), warn, or ignore; there is no default
	// condasigs.yaml:5:5: attestations.conda-forge.requir: unknown key "requir": did you mean "require"?
	// condasigs.yaml:7:9: attestations.conda-forge.trusted_identities[0]: trusted identity "https://github.com/conda-forge/*" has no issuer: a SAN alone is weak, pin its OIDC issuer, e.g. github (https://token.actions.githubusercontent.com) for GitHub Actions, or write issuer: any to accept every issuer
}

// Deeply nested documents are refused by the YAML parser, not by a stack
// overflow.
func TestParseConfigDeepNesting(t *testing.T) {
	for _, data := range []string{
		strings.Repeat("[", 100000),
		strings.Repeat("- ", 50000) + "x\n",
		"attestations:\n  c: " + strings.Repeat("{a: ", 20000) + "1" + strings.Repeat("}", 20000) + "\n",
	} {
		got := configErrors(t, func() error { _, err := policy.ParseConfig("deep.yaml", []byte(data)); return err }())
		require.Len(t, got, 1)
		assert.Contains(t, got[0].Msg, "YAML syntax error: exceeded max depth")
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, file := range []string{"testdata/config-full.yaml", "testdata/config-full.json"} {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a, *a]\nattestations: *b\n")) // billion laughs, refused
	// (deep nesting: see TestParseConfigDeepNesting)
	f.Add([]byte("attestations:\n  ? [a, b]\n  : {}\n  !!binary aGk=: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := policy.ParseConfig("fuzz.yaml", data)
		if err != nil {
			configErrors(t, err) // every problem is a *ConfigError
			return
		}
		_, err = policy.CompileConfig(cfg)
		require.NoError(t, err, "a configuration ParseConfig accepts compiles")
	})
}
