package condasigs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeConfigSample keeps the README's sample configuration true: it
// must parse and compile, and mean what its comments say.
func TestReadmeConfigSample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "### Configuration file")
	require.True(t, ok)
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	require.True(t, ok)
	sample, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)

	cfg, err := policy.ParseConfig("README.md", []byte(sample))
	require.NoError(t, err)
	rules, err := policy.CompileConfig(cfg)
	require.NoError(t, err)
	assert.Equal(t, "conda-forge", rules.For("https://conda.anaconda.org/conda-forge").Entry)
	assert.Equal(t, policy.CatchAll, rules.For("https://conda.anaconda.org/conda-forge-staging").Entry)
	assert.Equal(t, "https://conda.example.com/my-org", rules.For("https://mirror.example.com/my-org").Channel)
	assert.False(t, rules.For("https://conda.anaconda.org/bioconda").Enabled)
	assert.True(t, rules.Pins())
}
