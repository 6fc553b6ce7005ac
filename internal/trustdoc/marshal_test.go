package trustdoc_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/trustdoc"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// One trusted root encodes to one byte string, whatever the order of its
// logs and authorities in the input, and the encoding loads again to the
// same digest.
func TestMarshalCanonical(t *testing.T) {
	raw := fixtures.Read(fixtures.PublicGoodRootFile)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	for _, k := range []string{"tlogs", "ctlogs", "certificateAuthorities", "timestampAuthorities"} {
		if l, ok := doc[k].([]any); ok {
			for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
				l[i], l[j] = l[j], l[i]
			}
		}
	}
	reversed, err := json.Marshal(doc)
	require.NoError(t, err)

	var out [][]byte
	for _, in := range [][]byte{raw, reversed} {
		tr, err := root.NewTrustedRootFromJSON(in)
		require.NoError(t, err)
		b, err := trustdoc.Marshal(tr)
		require.NoError(t, err)
		out = append(out, b)
	}
	assert.Equal(t, string(out[0]), string(out[1]))
	a, err := trustroot.FromJSON(out[0])
	require.NoError(t, err)
	b, err := trustroot.FromJSON(out[1])
	require.NoError(t, err)
	sa, _ := a.Snapshot(t.Context())
	sb, _ := b.Snapshot(t.Context())
	assert.Equal(t, sa.Info.Digest, sb.Info.Digest)
}
