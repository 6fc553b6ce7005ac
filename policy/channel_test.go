package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/policy"
)

// spellingRules is the configuration of the attack review: require: error
// for a loopback channel under both of its names and for conda-forge, and
// a catch-all that lets anything else through (disabled, or warn as in the
// README).
func spellingRules(t *testing.T, catchAll policy.ChannelPolicy) *policy.CompiledConfig {
	t.Helper()
	catchAll.Channel = policy.CatchAll
	return rulesFor(t, policy.Config{
		Channels: []policy.ChannelPolicy{
			entry("http://127.0.0.1:8080", true, policy.ModeError),
			entry("http://localhost:8080/chan", true, policy.ModeError),
			entry("conda-forge", true, policy.ModeError),
		},
		Default: &catchAll,
	})
}

// evilSpellings are, per strict entry, URLs that Go's net/http, conda
// (requests, getaddrinfo) or rattler (reqwest, WHATWG URL) send to that
// entry's server and channel.
var evilSpellings = map[string][]string{
	"http://127.0.0.1:8080": {
		"http://127.0.0.1:08080/linux-64",
		"http://127.0.0.1:000008080",
		"http://[::ffff:127.0.0.1]:8080",
		"http://[::FFFF:7F00:1]:8080",
		"http://[0:0:0:0:0:ffff:127.0.0.1]:8080/x",
		"http://127.1:8080",
		"http://127.0.1:8080",
		"http://0x7f.0.0.1:8080",
		"http://0177.0.0.1:8080",
		"http://017700000001:8080",
		"http://2130706433:8080",
		"http://0x7F000001:8080",
		"http://127.0.0.1.:8080",
		"http://１２７．０．０．１:8080",
		"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1:8080",
		"http://u:p@127.0.0.1:8080/t/tok/x",
	},
	"http://localhost:8080/chan": {
		"http://localhost:08080/chan",
		"http://LOCALHOST:8080/chan",
		"http://localhost.:8080/chan",
		"http://ｌｏｃａｌｈｏｓｔ:8080/chan",
		"http://ＬＯＣＡＬＨＯＳＴ:8080/chan",
		"http://%EF%BD%8Cocalhost:8080/chan",
		"http://lo\u00adcalhost:8080/chan",
		"http://localhost:8080/CHAN",
		"http://localhost:8080/Chan/label/x",
		"http://localhost:8080/%63han",
		"http://localhost:8080/%43HAN",
		"http://localhost:8080//chan",
		"http://localhost:8080/./chan",
		"http://localhost:8080/x/../chan",
		"http://localhost:8080/%2e%2e/chan",
		"http://localhost:8080/t/tok/chan",
		"http://localhost:8080/T/tok/Chan",
	},
	"conda-forge": {
		"https://conda.anaconda.org:0443/conda-forge",
		"https://conda.anaconda.org:443/conda-forge",
		"https://conda.anaconda.org:/conda-forge",
		"http://conda.anaconda.org/conda-forge",
		"http://conda.anaconda.org:0080/conda-forge",
		"https://CONDA.ANACONDA.ORG./Conda-Forge",
		"https://ｃｏｎｄａ．ａｎａｃｏｎｄａ．ｏｒｇ/conda-forge",
		"https://conda.anaconda.org/CONDA-FORGE/label/main",
	},
}

// refusedSpellings cannot be given one destination: For refuses them, and
// Verify then fails with a misuse error instead of choosing an entry.
var refusedSpellings = []string{
	"http://127.0.0.256:8080",
	"http://0.0.0.0:8080",
	"http://[::]:8080",
	"http://127.0.0.1:0",
	"http://127.0.0.1:65536",
	"http://[fe80::1%25lo]:8080",
	"http://[::ffff:127.1]:8080",
	"http://straße.example:8080",
	"http://localhost:8080/chan%2F..%2Fx",
	"http://localhost:8080/chan;x",
	"http://localhost:8080\\chan",
	"http://localhost:8080/ｃｈａｎ",
	"http://localhost:8080/%252e%252e/chan",
	"http://localhost..:8080/chan",
}

// TestRulesForSpellings: every spelling of a strict channel selects the
// strict entry, whatever the catch-all; the spellings that cannot be
// resolved are refused. Neither reaches the catch-all.
func TestRulesForSpellings(t *testing.T) {
	for name, catchAll := range map[string]policy.ChannelPolicy{
		"catch-all disabled": {Enabled: false},
		"catch-all warn":     {Enabled: true, Policy: policy.Policy{Require: policy.ModeWarn, Identities: trusted}},
	} {
		t.Run(name, func(t *testing.T) {
			r := spellingRules(t, catchAll)
			for strict, spellings := range evilSpellings {
				want := mustFor(t, r, strict)
				require.Equal(t, strict, want.Entry)
				for _, s := range spellings {
					m, err := r.For(s)
					if assert.NoError(t, err, s) {
						assert.Equal(t, strict, m.Entry, "%s selects another entry", s)
						assert.Equal(t, policy.ModeError, m.Effective().Require, s)
					}
				}
			}
			for _, s := range refusedSpellings {
				m, err := r.For(s)
				assert.Error(t, err, "%s selects entry %q", s, m.Entry)
			}
		})
	}
}

// TestChannelURLCaseFolds: names and URLs that differ only by case are one
// channel, so two entries for them collide.
func TestChannelURLCaseFolds(t *testing.T) {
	for _, name := range []string{"Conda-Forge", "CONDA-FORGE/", "https://conda.anaconda.org/Conda-Forge"} {
		got, err := conda.ChannelURL(name, "")
		require.NoError(t, err, name)
		assert.Equal(t, "https://conda.anaconda.org/conda-forge", got, name)
	}
	_, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{
		entry("conda-forge", true, policy.ModeError),
		entry("Conda-Forge", false, ""),
	}})
	assert.ErrorContains(t, err, "merge the two entries")
	_, err = policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{
		entry("http://localhost:8080/chan", true, policy.ModeError),
		entry("http://LOCALHOST:08080/Chan/", false, ""),
	}})
	assert.ErrorContains(t, err, "merge the two entries")
}

// TestChannelURLSchemes: whatever starts with a scheme is a URL, never a
// name under the channel alias: "file:/srv/chan" (as url.URL prints a file
// URL without a host) is the file channel.
func TestChannelURLSchemes(t *testing.T) {
	for in, want := range map[string]string{
		"file:/srv/chan":            "file:///srv/chan",
		"file:///srv/chan":          "file:///srv/chan",
		"FILE://localhost/srv/Chan": "file:///srv/chan",
		"conda-forge":               "https://conda.anaconda.org/conda-forge",
		" conda-forge/ ":            "https://conda.anaconda.org/conda-forge",
	} {
		got, err := conda.ChannelURL(in, "")
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"/", " ", "https:h/c", "localhost:8080/chan", " https://h/c", "https://h/c\n"} {
		got, err := conda.ChannelURL(in, "")
		assert.Error(t, err, "%q is %q", in, got)
	}
	r := rulesFor(t, policy.Config{Channels: []policy.ChannelPolicy{entry("file:///srv/chan", true, policy.ModeError)},
		Default: &policy.ChannelPolicy{Enabled: false}})
	assert.Equal(t, "file:///srv/chan", mustFor(t, r, "file:/srv/chan").Entry)
}

// A policy entry names a channel, never credentials: user information or a
// conda token would be dropped from the canonical form, and the entry
// would seem to cover another host or path than it does.
func TestEntryRefusesCredentials(t *testing.T) {
	for _, ch := range []string{
		"https://evil.example@conda.anaconda.org/conda-forge",
		"https://user:secret@conda.anaconda.org/conda-forge",
		"https://conda.anaconda.org/t/tk-1/conda-forge",
		"https://h.example/api/repo/t/tk-1/chan",
		"https://h.example/T/x/chan",
		"org/t/tk-1/chan",   // a name, expanded with the alias
		"conda-forge/%74/x", // an escaped token in a name
		"https://h.example/%54/x/chan",
	} {
		for _, asMirror := range []bool{false, true} {
			cp := policy.ChannelPolicy{Channel: ch, Enabled: false}
			if asMirror {
				cp = policy.ChannelPolicy{Channel: "https://prefix.dev/x", Mirrors: []string{ch}}
			}
			_, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{cp}})
			require.Error(t, err, "%s (mirror %v)", ch, asMirror)
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "tk-1")
			assert.Regexp(t, "user information|conda token", err.Error())
		}
	}
	// A channel whose last segment is "t" is a channel like any other.
	_, err := policy.CompileConfig(policy.Config{Channels: []policy.ChannelPolicy{{Channel: "https://h.example/org/t", Enabled: false}}})
	require.NoError(t, err)
}
