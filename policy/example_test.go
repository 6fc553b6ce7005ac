package policy_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// A policy that trusts conda-forge's GitHub Actions workflows, applied to
// the evidence of a bundle signed by a look-alike organisation.
func ExampleMatch_Decide() {
	rules, err := policy.CompileConfig(policy.Config{Default: &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{
		Require: policy.ModeError,
		Identities: []policy.Identity{{
			SAN:    "https://github.com/conda-forge/*",
			Issuer: "https://token.actions.githubusercontent.com",
		}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := rules.For("https://conda.anaconda.org/conda-forge")
	if err != nil {
		fmt.Println(err)
		return
	}
	d := m.Decide(policy.Input{Bundles: []attest.Evidence{{
		Verified: true, SignatureVerified: true,
		SAN:    "https://github.com/conda-forge-evil/numpy/.github/workflows/build.yml@refs/heads/main",
		Issuer: "https://token.actions.githubusercontent.com",
	}}})
	fmt.Println(d.Outcome, d.Status)
	for _, r := range d.Reasons {
		fmt.Println(r.Rule, r.Code)
	}
	// Output:
	// fail verification-failure
	// require no-trusted-bundle
	// identity untrusted-identity
}

// CompileConfig explains what is wrong with a policy and how to fix it.
func ExampleCompileConfig_problems() {
	_, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{{
		Channel: "https://conda.example.com/my-org", Enabled: true,
		Policy: policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/my-org/*"}}},
	}}})
	fmt.Println(err)
	// Output:
	// channel "https://conda.example.com/my-org": trusted identity "https://github.com/my-org/*" has no issuer: a SAN alone is weak, pin its OIDC issuer, e.g. github (https://token.actions.githubusercontent.com) for GitHub Actions, or write issuer: any to accept every issuer
}

// Load a configuration file, YAML or JSON, and compile it. Problems are
// reported with the file, line, column and setting, each a
// *policy.ConfigError (several are joined with errors.Join).
func ExampleLoadConfig() {
	dir, err := os.MkdirTemp("", "condasigs-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "condasigs.yaml")
	err = os.WriteFile(path, []byte(`attestations:
  conda-forge:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://github.com/conda-forge/*"
        issuer: github
`), 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}

	cfg, err := policy.LoadConfig(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	rules, err := policy.CompileConfig(cfg) // LoadConfig has checked it already; this prepares it for use
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := rules.For("https://conda.anaconda.org/conda-forge")
	if err != nil {
		fmt.Println(err)
		return
	}
	unsigned := policy.Input{NotAdvertised: true}
	fmt.Println(m.Entry, m.Enabled, m.Decide(unsigned).Outcome) // what an unsigned package gets

	// A typo, located.
	err = os.WriteFile(path, []byte(`attestations:
  conda-forge:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://github.com/conda-forge/*"
        isuer: github
`), 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = policy.LoadConfig(path)
	var ce *policy.ConfigError
	if errors.As(err, &ce) {
		fmt.Printf("line %d, column %d, %s: %s\n", ce.Line, ce.Column, ce.Field, ce.Msg)
	}
	// Output:
	// conda-forge true fail
	// line 7, column 9, attestations.conda-forge.trusted_identities[0].isuer: unknown key "isuer": did you mean "issuer"?
}

// A configuration built in Go rather than read from a file: conda-forge
// and a mirror of it, with the catch-all warning for every other channel.
func ExampleCompileConfig() {
	rules, err := policy.CompileConfig(policy.Config{
		Channels: []policy.ChannelPolicy{{
			Channel: "conda-forge", // expanded with the channel alias
			Enabled: true,
			Mirrors: []string{"https://prefix.dev/conda-forge"},
			Policy: policy.Policy{
				Require:    policy.ModeError,
				Identities: []policy.Identity{{SAN: "https://github.com/conda-forge/*", Issuer: "github"}},
			},
		}},
		Default: &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{
			Require:    policy.ModeWarn,
			Identities: []policy.Identity{{SAN: "https://github.com/*", Issuer: "github"}},
		}},
	})
	if err != nil {
		fmt.Println(err) // every problem, each naming its entry
		return
	}
	m, err := rules.For("https://prefix.dev/conda-forge")
	if err != nil {
		fmt.Println(err)
		return
	}
	unsigned := policy.Input{NotAdvertised: true}
	fmt.Println(m.Entry, m.Channel, m.Decide(unsigned).Outcome) // what an unsigned package gets
	m, _ = rules.For("https://prefix.dev/other")
	fmt.Println(m.Entry, m.Channel, m.Decide(unsigned).Outcome)
	// Output:
	// conda-forge https://conda.anaconda.org/conda-forge fail
	// * https://prefix.dev/other warn
}

// CompiledConfig.For picks the entry for a channel: the longest configured channel
// or mirror URL that is a prefix of it on whole path segments, else the
// catch-all, else none (not checked, and reports say so). Attestations must
// name Match.Channel as their targetChannel.
func ExampleCompiledConfig_For() {
	rules, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{
		{
			Channel: "conda-forge",
			Enabled: true,
			Mirrors: []string{"https://prefix.dev/conda-forge"},
			Policy: policy.Policy{Identities: []policy.Identity{{
				SAN: "https://github.com/conda-forge/*", Issuer: "github",
			}}},
		},
		{Channel: "bioconda", Enabled: false},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, channel := range []string{
		"https://conda.anaconda.org/conda-forge/label/dev",
		"https://user:secret@PREFIX.dev/conda-forge/",
		"https://conda.anaconda.org/conda-forge-staging",
		"bioconda",
	} {
		m, err := rules.For(channel)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("entry %q enabled %v targetChannel %q\n", m.Entry, m.Enabled, m.Channel)
	}
	// Output:
	// entry "conda-forge" enabled true targetChannel "https://conda.anaconda.org/conda-forge"
	// entry "conda-forge" enabled true targetChannel "https://conda.anaconda.org/conda-forge"
	// entry "" enabled false targetChannel "https://conda.anaconda.org/conda-forge-staging"
	// entry "bioconda" enabled false targetChannel "https://conda.anaconda.org/bioconda"
}

// A trusted identity matches a verified signer when the issuer is exact,
// the SAN pattern matches, and every claim constraint set holds.
func ExampleIdentity() {
	rules, err := policy.CompileConfig(policy.Config{Default: &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{Identities: []policy.Identity{{
		SAN:               "https://github.com/prefix-dev/*",
		Issuer:            "github",
		RepositoryID:      "1048392115", // survives renames and transfers
		SourceRef:         "refs/heads/main",
		RunnerEnvironment: "github-hosted", // no self-hosted runners
	}}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := rules.For("https://prefix.dev/sigstore-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	signer := func(san, issuer, runner string) attest.Evidence {
		return attest.Evidence{Verified: true, SignatureVerified: true, SAN: san, Issuer: issuer,
			Claims: &certificate.Extensions{
				SourceRepositoryURI:        "https://github.com/prefix-dev/sigstore-example",
				SourceRepositoryIdentifier: "1048392115",
				SourceRepositoryRef:        "refs/heads/main",
				RunnerEnvironment:          runner,
			}}
	}
	const workflow = "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main"
	for _, c := range []struct {
		name string
		ev   attest.Evidence
	}{
		{"the real signer", signer(workflow, "https://token.actions.githubusercontent.com", "github-hosted")},
		{"a self-hosted runner", signer(workflow, "https://token.actions.githubusercontent.com", "self-hosted")},
		{"another issuer", signer(workflow, "https://gitlab.com", "github-hosted")},
		{"a look-alike organisation", signer("https://github.com/prefix-dev-evil/sigstore-example/.github/workflows/action.yaml@refs/heads/main", "https://token.actions.githubusercontent.com", "github-hosted")},
	} {
		fmt.Printf("%s: %s\n", c.name, m.Decide(policy.Input{Bundles: []attest.Evidence{c.ev}}).Outcome)
	}
	// Output:
	// the real signer: pass
	// a self-hosted runner: fail
	// another issuer: fail
	// a look-alike organisation: fail
}

// SAN patterns are literal, case-sensitive and anchored; '*' matches any
// run of characters, '/' included.
func ExampleMatchSAN() {
	const pattern = "https://github.com/conda-forge/*"
	for _, san := range []string{
		"https://github.com/conda-forge/numpy-feedstock/.github/workflows/build.yml@refs/heads/main",
		"https://github.com/conda-forge-evil/numpy-feedstock/.github/workflows/build.yml@refs/heads/main",
		"https://github.com/Conda-Forge/numpy-feedstock/.github/workflows/build.yml@refs/heads/main",
	} {
		fmt.Println(policy.MatchSAN(pattern, san))
	}
	// Output:
	// true
	// false
	// false
}

// Identity pinning (trust on first use): the first verified signer of a
// package is recorded; a later package of that name from another signer
// is flagged. A condasigs.Verifier does this itself with Options.PinStore and
// Options.LearnPins; this is the machinery underneath.
func ExamplePinStore() {
	dir, err := os.MkdirTemp("", "condasigs-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pins.json")

	pins, err := policy.LoadPins(path) // a missing file is an empty store
	if err != nil {
		fmt.Println(err)
		return
	}
	const channel = "https://conda.example.com/my-org"
	rules, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{{Channel: channel, Enabled: true, Policy: policy.Policy{
		Identities: []policy.Identity{{SAN: "https://github.com/my-org/*", Issuer: "github"}},
		Pinning:    policy.ModeError,
	}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := rules.For(channel)
	if err != nil {
		fmt.Println(err)
		return
	}
	first := attest.Evidence{Verified: true, SignatureVerified: true,
		SAN:    "https://github.com/my-org/tool/.github/workflows/release.yml@refs/tags/v1.0",
		Issuer: "https://token.actions.githubusercontent.com",
		Claims: &certificate.Extensions{SourceRepositoryURI: "https://github.com/my-org/tool", SourceRepositoryIdentifier: "123456"}}
	// With no pin yet, the decision names the signer to pin.
	d := engine.Decide(policy.Input{Bundles: []attest.Evidence{first}})
	if existing, found := pins.SetIfAbsent(channel, "tool", *d.PinCandidate); found {
		fmt.Println("already pinned:", existing)
	}
	if err := pins.Save(); err != nil { // atomic: a temporary file renamed over the old one
		fmt.Println(err)
		return
	}

	// A later run reads the pins and checks each package's signer.
	pins, err = policy.LoadPins(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	pin, _ := pins.Get(channel, "tool")
	fmt.Println("pinned:", pin)
	other := first
	other.SAN = "https://github.com/my-org/fork/.github/workflows/release.yml@refs/tags/v1.1"
	other.Claims = &certificate.Extensions{SourceRepositoryURI: "https://github.com/my-org/fork", SourceRepositoryIdentifier: "654321"}
	for _, ev := range []attest.Evidence{first, other} {
		d := engine.Decide(policy.Input{Bundles: []attest.Evidence{ev}, Pinned: &pin})
		fmt.Println(d.Outcome, d.Status)
		for _, r := range d.Reasons {
			fmt.Printf("  %s: %s\n", r.Code, r.Message)
		}
	}
	// Output:
	// pinned: repository https://github.com/my-org/tool (id 123456, issuer https://token.actions.githubusercontent.com)
	// pass verified
	// fail verification-failure
	//   signer-changed: the signer changed: pinned repository https://github.com/my-org/tool (id 123456, issuer https://token.actions.githubusercontent.com), now repository https://github.com/my-org/fork (id 654321, issuer https://token.actions.githubusercontent.com); if the change is expected, replace the pin (PinStore.Set, then Save)
}
