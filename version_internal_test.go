package condasigs

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/verdictcache"
	"github.com/condasigs/condasigs/policy"
)

// The build digest is known in a test binary (from the executable), stable
// within the process, and part of every verdict key; code that cannot be
// identified caches nothing.
func TestBuildDigestKeysVerdicts(t *testing.T) {
	d := buildDigest()
	if len(d) != 32 || d != buildDigest() {
		t.Fatalf("buildDigest() = %q, want a stable 32-hex digest", d)
	}
	rules, err := policy.CompileConfig(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := fetch.NewDirCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	j := &job{pkg: Package{Record: fetch.Record{Filename: "a-1-0.conda", AttestationsSHA256: strings.Repeat("ab", 32)}}}
	v := &Verifier{verdicts: openVerdicts(store, nil), rules: rules, policyDigest: configDigest(policy.Config{}), fetcher: fetch.New(fetch.Options{})}
	h := v.verdictHandle(j, "sha256:00")
	if h == nil || h.Key().BuildDigest != d {
		t.Fatalf("not keyed by the build digest: %+v", h)
	}
	if v.verdictHandle(j, "") != nil {
		t.Fatal("keyed without a trusted-material digest")
	}
	v.verdicts = verdictcache.Open(store, "", slog.New(slog.DiscardHandler))
	if v.verdictHandle(j, "sha256:00") != nil {
		t.Fatal("keyed without a build digest")
	}
}

// The policy digest of the verdict key is stable, and differs for every
// change of a configuration.
func TestConfigDigest(t *testing.T) {
	trusted := []policy.Identity{{SAN: "https://github.com/conda-forge/*", Issuer: "github"}}
	entry := func(channel string, enabled bool, mode policy.Mode) policy.ChannelPolicy {
		return policy.ChannelPolicy{Channel: channel, Enabled: enabled, Policy: policy.Policy{Require: mode, Identities: trusted}}
	}
	base := policy.Config{Channels: []policy.ChannelPolicy{entry("conda-forge", true, policy.ModeError)}}
	d := configDigest(base)
	if len(d) != 64 || d != configDigest(base) {
		t.Fatalf("configDigest = %q, want a stable 64-hex digest", d)
	}
	for i, c := range []policy.Config{
		{Channels: []policy.ChannelPolicy{entry("conda-forge", true, policy.ModeWarn)}},
		{Channels: []policy.ChannelPolicy{entry("conda-forge", false, policy.ModeError)}},
		{Channels: []policy.ChannelPolicy{entry("bioconda", true, policy.ModeError)}},
		{Channels: []policy.ChannelPolicy{{Channel: "conda-forge", Enabled: true, Policy: policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/conda-forge/x/*", Issuer: "github"}}}}}},
		{Channels: []policy.ChannelPolicy{{Channel: "conda-forge", Enabled: true, Policy: policy.Policy{Pinning: policy.ModeWarn, Identities: trusted}}}},
		{Channels: []policy.ChannelPolicy{{Channel: "conda-forge", Enabled: true, Mirrors: []string{"https://prefix.dev/conda-forge"}, Policy: policy.Policy{Identities: trusted}}}},
		{ChannelAlias: "https://example.com", Channels: base.Channels},
		{Channels: base.Channels, Default: &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{Identities: trusted}}},
	} {
		if configDigest(c) == d {
			t.Errorf("variant %d has the base digest", i)
		}
	}
}
