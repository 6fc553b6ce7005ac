package policy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fromRepo(i int, repoID, repo string) attest.Evidence {
	ev := valid(i, "https://github.com/conda-forge/x-feedstock/.github/workflows/b.yml@refs/heads/main", ghIssuer, attest.ChannelMatched)
	ev.Claims = &certificate.Extensions{SourceRepositoryIdentifier: repoID, SourceRepositoryURI: repo}
	return ev
}

func TestPinOfPrefersImmutableIDs(t *testing.T) {
	assert.Equal(t, policy.PinnedSigner{Issuer: ghIssuer, RepositoryID: "42", Repository: "https://github.com/conda-forge/x-feedstock"},
		policy.PinnedSignerOf(fromRepo(0, "42", "https://github.com/conda-forge/x-feedstock")))
	assert.Equal(t, policy.PinnedSigner{Issuer: ghIssuer, Repository: "https://github.com/conda-forge/x-feedstock"},
		policy.PinnedSignerOf(fromRepo(0, "", "https://github.com/conda-forge/x-feedstock")))
	ev := valid(0, "alice@example.com", "https://accounts.google.com", attest.ChannelMatched)
	assert.Equal(t, policy.PinnedSigner{Issuer: "https://accounts.google.com", SAN: "alice@example.com"}, policy.PinnedSignerOf(ev))

	renamed := policy.PinnedSignerOf(fromRepo(0, "42", "https://github.com/conda-forge/renamed"))
	assert.True(t, policy.PinnedSignerOf(fromRepo(0, "42", "https://github.com/conda-forge/x-feedstock")).Same(renamed), "a rename keeps the repository ID")
	assert.False(t, policy.PinnedSignerOf(fromRepo(0, "42", "")).Same(policy.PinnedSignerOf(fromRepo(0, "43", ""))))
	other := policy.PinnedSignerOf(fromRepo(0, "42", ""))
	other.Issuer = "https://gitlab.com"
	assert.False(t, policy.PinnedSignerOf(fromRepo(0, "42", "")).Same(other), "the issuer is part of the pin")
}

func TestDecidePins(t *testing.T) {
	pinned := policy.PinnedSignerOf(fromRepo(0, "42", "https://github.com/conda-forge/x-feedstock"))
	cases := []struct {
		name    string
		mode    policy.Mode
		pin     *policy.PinnedSigner
		bundles []attest.Evidence
		outcome policy.Outcome
		code    string
	}{
		{"pinning off", "", &pinned, []attest.Evidence{fromRepo(0, "99", "https://github.com/conda-forge/evil")}, policy.Pass, ""},
		{"first use", policy.ModeError, nil, []attest.Evidence{fromRepo(0, "42", "")}, policy.Pass, "pin-new"},
		{"same signer", policy.ModeError, &pinned, []attest.Evidence{fromRepo(0, "42", "")}, policy.Pass, ""},
		{"changed, error", policy.ModeError, &pinned, []attest.Evidence{fromRepo(0, "99", "https://github.com/conda-forge/other")}, policy.Fail, "signer-changed"},
		{"changed, warn", policy.ModeWarn, &pinned, []attest.Evidence{fromRepo(0, "99", "https://github.com/conda-forge/other")}, policy.Warn, "signer-changed"},
		{"pinned signer among others", policy.ModeError, &pinned, []attest.Evidence{fromRepo(0, "99", ""), fromRepo(1, "42", "")}, policy.Pass, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := policy.Compile(policy.Policy{Identities: trusted, Pinning: c.mode})
			require.NoError(t, err)
			d := e.Decide(policy.Input{Bundles: c.bundles, Pinned: c.pin})
			assert.Equal(t, c.outcome, d.Outcome, "%+v", d.Reasons)
			var codes []string
			for _, r := range d.Reasons {
				codes = append(codes, string(r.Code))
				if r.Code == "signer-changed" {
					assert.Contains(t, r.Message, "pinned repository https://github.com/conda-forge/x-feedstock (id 42")
					assert.Contains(t, r.Message, "now repository https://github.com/conda-forge/other (id 99")
				}
			}
			if c.code != "" {
				assert.Contains(t, codes, c.code)
			} else {
				assert.NotContains(t, codes, "signer-changed")
			}
			if c.outcome == policy.Fail {
				assert.Empty(t, d.Accepted)
			}
			if c.mode != "" {
				require.NotNil(t, d.PinCandidate)
			} else {
				assert.Nil(t, d.PinCandidate)
			}
		})
	}
}

func TestPinStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "pins.json")
	s, err := policy.LoadPins(path)
	require.NoError(t, err, "a missing file is the first use")
	assert.Zero(t, s.Len())
	p := policy.PinnedSigner{Issuer: ghIssuer, RepositoryID: "42", Repository: "https://github.com/o/r"}
	s.Set("https://conda.anaconda.org/conda-forge", "numpy", p)
	require.NoError(t, s.Save())

	again, err := policy.LoadPins(path)
	require.NoError(t, err)
	got, ok := again.Get("https://conda.anaconda.org/conda-forge", "numpy")
	require.True(t, ok)
	assert.Equal(t, p, got)
	_, ok = again.Get("https://conda.anaconda.org/conda-forge", "scipy")
	assert.False(t, ok)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"pins.json", "pins.json.lock"}, names, "no temporary file left behind; the lock file stays")
}

func TestPinStoreCorrupt(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":         "not json",
		"truncated":       `{"version": 1, "pins": {"https://c": {"x": {"issuer": "i", "san": "s"}`,
		"wrong version":   `{"version": 2, "pins": {}}`,
		"unknown field":   `{"version": 1, "pins": {}, "extra": true}`,
		"pin without who": `{"version": 1, "pins": {"https://c": {"x": {"issuer": "i"}}}}`,
		"empty file":      ``,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pins.json")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
			_, err := policy.LoadPins(path)
			require.Error(t, err, "a corrupt pin file is never an empty trust set")
			assert.Contains(t, err.Error(), "pins:")
		})
	}
}

// Pins written under another spelling of a channel (before the canonical
// form folded case, ports and http) are found under the canonical one: a
// respelling never resets trust on first use. Spellings that disagree are
// an error, and so is a channel that cannot be used.
func TestPinStoreRekeysChannels(t *testing.T) {
	write := func(t *testing.T, content string) string {
		path := filepath.Join(t.TempDir(), "pins.json")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		return path
	}
	s, err := policy.LoadPins(write(t, `{"version": 1, "pins": {
		"https://conda.anaconda.org:0443/Conda-Forge/": {"numpy": {"issuer": "i", "repository_id": "1"}},
		"https://conda.anaconda.org/conda-forge": {"numpy": {"issuer": "i", "repository_id": "1"}, "scipy": {"issuer": "i", "san": "s"}}}}`))
	require.NoError(t, err)
	for _, name := range []string{"numpy", "scipy"} {
		_, ok := s.Get("https://conda.anaconda.org/conda-forge", name)
		assert.True(t, ok, name)
	}
	assert.Equal(t, 2, s.Len())

	_, err = policy.LoadPins(write(t, `{"version": 1, "pins": {
		"https://conda.anaconda.org/Conda-Forge": {"numpy": {"issuer": "i", "repository_id": "1"}},
		"https://conda.anaconda.org/conda-forge": {"numpy": {"issuer": "i", "repository_id": "2"}}}}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pin different signers of numpy")

	_, err = policy.LoadPins(write(t, `{"version": 1, "pins": {"https://a%2Fb": {"numpy": {"issuer": "i", "san": "s"}}}}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be used")
}
