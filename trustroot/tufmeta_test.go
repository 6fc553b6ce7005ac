package trustroot_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/trustroot"
)

// TUF metadata given as a trusted root is named for what it is, not
// reported as a protobuf error about an unknown field.
func TestTUFMetadataAsTrustedRoot(t *testing.T) {
	dir := t.TempDir()
	tufRoot := filepath.Join(dir, "root.json")
	require.NoError(t, os.WriteFile(tufRoot, fixtures.Read("data/staging.tuf-root.json"), 0o644))
	_, err := trustroot.FromFile(tufRoot)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "this is a TUF root.json (the metadata that starts a TUF repository's chain of trust), not a Sigstore trusted_root.json")
	assert.NotContains(t, err.Error(), "unknown field")

	_, err = trustroot.FromJSON([]byte(`{"signed":{"_type":"targets"},"signatures":[{"keyid":"k"}]}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `this is TUF "targets" metadata, not a Sigstore trusted_root.json`)

	_, err = trustroot.FromFile(tufRoot, filepath.Join("..", "internal", "fixtures", "data", "public-good.trusted_root.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TUF root.json")

	_, err = trustroot.FromJSON([]byte(`{"mediaType":"x","tlogs":7}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a valid trusted_root.json", "anything else is reported as before")
}
