package policy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/policy"
)

// The pin file is diff-friendly: channels and packages sorted, one line
// per package holding its whole pin, valid JSON that reads back the same.
func TestPinFileOneEntryPerLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	s, err := policy.LoadPins(path)
	require.NoError(t, err)
	forge, example := "https://conda.anaconda.org/conda-forge", "https://prefix.dev/example"
	numpy := policy.PinnedSigner{Issuer: ghIssuer, RepositoryID: "42", Repository: "https://github.com/o/numpy"}
	scipy := policy.PinnedSigner{Issuer: ghIssuer, Repository: "https://github.com/o/scipy"}
	tool := policy.PinnedSigner{Issuer: "https://accounts.google.com", SAN: "a&b <ci@example.com>\u202e"}
	// Set in an order that is not the sorted one.
	s.Set(forge, "scipy", scipy)
	s.Set(example, "tool", tool)
	s.Set(forge, "numpy", numpy)
	require.NoError(t, s.Save())

	want := `{
  "version": 1,
  "pins": {
    "https://conda.anaconda.org/conda-forge": {
      "numpy": {"issuer":"https://token.actions.githubusercontent.com","repository_id":"42","repository":"https://github.com/o/numpy"},
      "scipy": {"issuer":"https://token.actions.githubusercontent.com","repository":"https://github.com/o/scipy"}
    },
    "https://prefix.dev/example": {
      "tool": {"issuer":"https://accounts.google.com","san":"a&b <ci@example.com>\u202e"}
    }
  }
}
`
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "sorted, one line a package, a bidirectional override escaped")
	assert.True(t, json.Valid(got))

	again, err := policy.LoadPins(path)
	require.NoError(t, err)
	for _, c := range []struct {
		ch, name string
		want     policy.PinnedSigner
	}{{forge, "numpy", numpy}, {forge, "scipy", scipy}, {example, "tool", tool}} {
		p, ok := again.Get(c.ch, c.name)
		assert.True(t, ok, c.name)
		assert.Equal(t, c.want, p, c.name)
	}

	// Saved again unchanged, the file is byte for byte the same: a run
	// that pins nothing new makes no diff.
	require.NoError(t, again.Save())
	same, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(same))
}

// A store with no pins writes an empty object, which reads back.
func TestPinFileEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	s, err := policy.LoadPins(path)
	require.NoError(t, err)
	require.NoError(t, s.Save())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"version\": 1,\n  \"pins\": {}\n}\n", string(got))
	again, err := policy.LoadPins(path)
	require.NoError(t, err)
	assert.Zero(t, again.Len())
}

// A pin file in the indented form earlier versions wrote still reads.
func TestPinFileIndentedFormReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
  "version": 1,
  "pins": {
    "https://conda.anaconda.org/conda-forge": {
      "numpy": {
        "issuer": "https://token.actions.githubusercontent.com",
        "repository_id": "42",
        "repository": "https://github.com/o/numpy"
      }
    }
  }
}
`), 0o644))
	s, err := policy.LoadPins(path)
	require.NoError(t, err)
	p, ok := s.Get("https://conda.anaconda.org/conda-forge", "numpy")
	require.True(t, ok)
	assert.Equal(t, "42", p.RepositoryID)
}
