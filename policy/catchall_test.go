package policy_test

import (
	"strings"
	"testing"

	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCatchAllOneWay checks that the catch-all is written one way: the
// "*" entry, once, in a file; Config.Default in Go.
func TestCatchAllOneWay(t *testing.T) {
	catchAll := func(line int) []string {
		return []string{
			`  "*":`,
			"    enabled: false",
			"    require: warn",
			"    trusted_identities: []",
		}[:line]
	}
	t.Run("two entries in a file", func(t *testing.T) {
		for _, second := range []string{`  "*":`, `  '*':`, `  "\x2a":`} {
			lines := append([]string{"attestations:"}, catchAll(4)...) // "*" at line 2
			lines = append(lines, "  conda-forge:", "    enabled: false", "    require: warn", "    trusted_identities: []")
			lines = append(lines, second, "    enabled: true") // line 10
			_, err := policy.ParseConfig("c.yaml", []byte(doc(lines...)))
			got := configErrors(t, err)
			require.Len(t, got, 1, "%v", err)
			assert.Equal(t, 10, got[0].Line)
			assert.Equal(t, "attestations.*", got[0].Field)
			assert.Equal(t, `duplicate key "*" (first at line 2): a configuration has one catch-all entry; remove the one at line 2 or the one at line 10`, got[0].Msg)
		}
	})

	t.Run("a top-level default key", func(t *testing.T) {
		for _, key := range []string{"default", `"*"`, "Default", "fallback", "catch-all"} {
			_, err := policy.ParseConfig("c.yaml", []byte(doc(
				"attestations:",
				"  conda-forge:",
				"    enabled: false",
				"    require: warn",
				"    trusted_identities: []",
				key+":",
				"  enabled: true",
			)))
			got := configErrors(t, err)
			require.Len(t, got, 1, "%v", err)
			assert.Equal(t, 6, got[0].Line)
			assert.Contains(t, got[0].Msg, `the catch-all policy is the "*" entry under attestations:`, key)
		}
	})

	t.Run("the file's catch-all is Config.Default", func(t *testing.T) {
		cfg, err := policy.ParseConfig("c.yaml", []byte(doc(append([]string{"attestations:"}, catchAll(4)...)...)))
		require.NoError(t, err)
		assert.Empty(t, cfg.Channels)
		require.NotNil(t, cfg.Default)
		assert.Equal(t, policy.CatchAll, cfg.Default.Channel)
	})

	disabled := policy.ChannelPolicy{Channel: policy.CatchAll, Enabled: false}
	t.Run("a catch-all in Config.Channels", func(t *testing.T) {
		for name, c := range map[string]policy.Config{
			"alone":             {Channels: []policy.ChannelPolicy{disabled}},
			"beside Default":    {Channels: []policy.ChannelPolicy{disabled}, Default: &disabled},
			"twice in Channels": {Channels: []policy.ChannelPolicy{disabled, disabled}},
		} {
			_, err := policy.CompileConfig(c)
			require.Error(t, err, name)
			assert.ErrorContains(t, err, `channel "*": the catch-all is Config.Default, not an entry of Config.Channels: move it there`, name)
		}
	})

	t.Run("Config.Default naming a channel", func(t *testing.T) {
		_, err := policy.CompileConfig(policy.Config{Default: &policy.ChannelPolicy{Channel: "conda-forge"}})
		require.Error(t, err)
		assert.ErrorContains(t, err, `channel "conda-forge": Config.Default is the catch-all, for every channel no entry matches: its Channel is "*" or empty`)
	})

	t.Run("Config.Default with Channel empty or CatchAll", func(t *testing.T) {
		for _, ch := range []string{"", policy.CatchAll} {
			r := rulesFor(t, policy.Config{Default: &policy.ChannelPolicy{Channel: ch}})
			assert.Equal(t, policy.CatchAll, mustFor(t, r, "https://prefix.dev/x").Entry)
		}
	})
}

// TestParseConfigStrictYAML checks how the configuration words the
// problems strict YAML reading finds.
func TestParseConfigStrictYAML(t *testing.T) {
	t.Run("too dense", func(t *testing.T) {
		data := []byte("attestations: [" + strings.Repeat("a,", 2_000_000) + "]\n")
		_, err := policy.ParseConfig("c.yaml", data)
		got := configErrors(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, 0, got[0].Line)
		assert.Equal(t, "the file is too dense a YAML document for a policy configuration (some 4000004 values; this tool reads at most 4000000): check the file", got[0].Msg)
	})

	t.Run("every alias, at its field", func(t *testing.T) {
		_, err := policy.ParseConfig("c.yaml", []byte(doc(
			"attestations:",
			"  a:",
			"    enabled: false",
			"    require: ignore",
			"    trusted_identities:",
			"      - &id {identity: x, issuer: any}",
			"      - *id",
			"  b:",
			"    enabled: false",
			"    require: ignore",
			"    trusted_identities: [*id]",
		)))
		got := configErrors(t, err)
		require.Len(t, got, 2, "%v", err)
		assert.Equal(t, "attestations.a.trusted_identities[1]", got[0].Field)
		assert.Equal(t, 7, got[0].Line)
		assert.Equal(t, "attestations.b.trusted_identities[0]", got[1].Field)
		assert.Equal(t, 11, got[1].Line)
		for _, e := range got {
			assert.Equal(t, "YAML alias *id: aliases are not supported (they can expand to huge documents); write the value out in full", e.Msg)
		}
	})

	t.Run("a key that is not text", func(t *testing.T) {
		_, err := policy.ParseConfig("c.yaml", []byte(doc(
			"attestations:",
			"  1:",
			"    enabled: false",
		)))
		got := configErrors(t, err)
		require.Len(t, got, 1, "%v", err)
		assert.Equal(t, "attestations.1", got[0].Field)
		assert.Equal(t, `a key must be a string, not the number 1: quote it ("1")`, got[0].Msg)
	})
}
