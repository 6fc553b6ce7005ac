package policy_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/policy"
)

// A pin file edit that a reviewer would read as harmless, or as another
// package's pin, but that encoding/json reads as a new signer for numpy,
// is refused: duplicate keys (the last wins), field names in another case
// or with a long s (encoding/json folds them), escapes that spell numpy or
// conda-forge, and invisible characters that make a key look like another.
func TestPinFileHiddenEditsRefused(t *testing.T) {
	const forge = "https://conda.anaconda.org/conda-forge"
	for name, c := range map[string]struct{ doc, want string }{
		"duplicate channel by escape": {`{"version":1,"pins":{
"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42"}},
"https://conda.anaconda.org/conda-\u0066orge":{"numpy":{"issuer":"I","repository_id":"666"}}}}`, "escape"},
		"duplicate channel": {`{"version":1,"pins":{
"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42"}},
"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"666"}}}}`, "twice"},
		"duplicate name": {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{
"numpy":{"issuer":"I","repository_id":"42"},
"numpy":{"issuer":"I","repository_id":"666"}}}}`, "line 3"},
		"name by escape":               {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"nump\u0079":{"issuer":"I","repository_id":"666"}}}}`, `'y' as the escape \u0079`},
		"name by surrogate escapes":    {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"x\ud83d\ude00":{"issuer":"I","repository_id":"666"}}}}`, "escape"},
		"field in upper case":          {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42","REPOSITORY_ID":"666"}}}}`, "unknown field"},
		"field with a long s":          {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42","repoſitory_id":"666"}}}}`, "unknown field"},
		"second pins object":           {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42"}}},"Pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"666"}}}}`, "unknown field"},
		"duplicate pins object":        {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42"}}},"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"666"}}}}`, "twice"},
		"zero-width in a name":         {"{\"version\":1,\"pins\":{\"https://conda.anaconda.org/conda-forge\":{\"num\u200bpy\":{\"issuer\":\"I\",\"repository_id\":\"42\"}}}}", "U+200B"},
		"a SAN beside a repository id": {`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"666","san":"https://github.com/numpy/numpy/.github/workflows/release.yml@refs/heads/main"}}}}`, "only the repository would count"},
		"a second value":               {`{"version":1,"pins":{}} {"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"666"}}}}`, "more after"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pins.json")
			require.NoError(t, os.WriteFile(path, []byte(c.doc), 0o600))
			s, err := policy.LoadPins(path)
			if err == nil {
				p, _ := s.Get(forge, "numpy")
				t.Fatalf("read, numpy pinned to %v", p)
			}
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// What the writer escapes, and what earlier versions escaped (<, >, &),
// still reads; so do one-character escapes.
func TestPinFileWriterEscapesRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	doc := `{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"tool":{"issuer":"I","san":"a\u0026b \u003cci@x\u003e \u202e \ud83d\udfff \ufffd \u0023#[x] \"q\" \\ \/"}}}}`
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	s, err := policy.LoadPins(path)
	require.NoError(t, err)
	p, ok := s.Get("https://conda.anaconda.org/conda-forge", "tool")
	require.True(t, ok)
	assert.Equal(t, "a&b <ci@x> \u202e \U0001f7ff \ufffd ##[x] \"q\" \\ /", p.SAN)

	// And what the writer writes of hostile values reads back the same.
	hostile := policy.PinnedSigner{Issuer: "I", SAN: "x\u200b\u202e\x00\x1b ##vso[y] <&> \U000e0041 \"\\"}
	s.Set("https://conda.anaconda.org/conda-forge", "na\u200bme", hostile)
	require.NoError(t, s.Save())
	again, err := policy.LoadPins(path)
	require.NoError(t, err)
	got, ok := again.Get("https://conda.anaconda.org/conda-forge", "na\u200bme")
	require.True(t, ok)
	assert.Equal(t, hostile, got)
}

// Whatever a channel or certificate puts in a name or a signer, the file
// the writer writes reads back, as the same pins: the reader's checks
// never refuse the writer's own output.
func TestPinFileWriterOutputAlwaysReads(t *testing.T) {
	pool := []rune("aZ09-_.#[]{}\":,\\/<>&@ \t\n\r\x00\x1b\x7f\u0085\u00a0\u00ad\u061c\u200b\u200d\u202e\u2028\u2066\u3164\ufeff\ufffd\ufffe\U000e0041\U0001f600\U0010ffff")
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			if rng.IntN(10) == 0 {
				b.WriteString("##vso[")
			}
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		return b.String()
	}
	path := filepath.Join(t.TempDir(), "pins.json")
	s, err := policy.LoadPins(path)
	require.NoError(t, err)
	const ch = "https://conda.anaconda.org/conda-forge"
	want := map[string]policy.PinnedSigner{}
	for range 500 {
		name := word()
		p := policy.PinnedSigner{Issuer: word(), SAN: word()}
		if rng.IntN(2) == 0 {
			p = policy.PinnedSigner{Issuer: word(), RepositoryID: word(), Repository: word()}
		}
		want[name] = p
		s.Set(ch, name, p)
	}
	require.NoError(t, s.Save())
	again, err := policy.LoadPins(path)
	require.NoError(t, err)
	for name, p := range want {
		got, ok := again.Get(ch, name)
		require.True(t, ok, "%q", name)
		require.Equal(t, p, got, "%q", name)
	}
}

// Any file LoadPins reads, it writes back (Save) as a file that reads as
// the same pins; and no input makes it panic.
func FuzzLoadPins(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"pins":{}}`,
		`{"version":1,"pins":{"https://conda.anaconda.org/conda-forge":{"numpy":{"issuer":"I","repository_id":"42","repository":"R"}}}}`,
		`{"version":1,"pins":{"https://c.example/x":{"a\u200bb":{"issuer":"I\u202e","san":"\u0023#[x] \u003c"}}}}`,
		`{"version":1,"pins":{"https://c.example/x":{"a":{"issuer":"I","san":"s"},"a":{"issuer":"I","san":"t"}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "pins.json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		s, err := policy.LoadPins(path)
		if err != nil {
			return
		}
		n := s.Len()
		require.NoError(t, s.Save())
		again, err := policy.LoadPins(path)
		require.NoError(t, err, "the writer's output reads")
		require.Equal(t, n, again.Len())
	})
}
