package condasigs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/fetch"
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
	assert.Equal(t, "conda-forge", mustFor(t, rules, "https://conda.anaconda.org/conda-forge").Entry)
	assert.Equal(t, policy.CatchAll, mustFor(t, rules, "https://conda.anaconda.org/conda-forge-staging").Entry)
	assert.Equal(t, "https://conda.example.com/my-org", mustFor(t, rules, "https://mirror.example.com/my-org").Channel)
	assert.False(t, mustFor(t, rules, "https://conda.anaconda.org/bioconda").Enabled)
	assert.True(t, rules.Pins())
}

func mustFor(t testing.TB, r *policy.Rules, channel string) policy.Match {
	t.Helper()
	m, err := r.For(channel)
	require.NoError(t, err)
	return m
}

// TestSecurityDocNamesRealTests: every test SECURITY.md cites as proof of
// a guarantee exists (a rename must update the document).
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	require.NoError(t, err)
	cited := regexp.MustCompile("`(?:(\\w+)\\.)?(Test\\w+)(?:/\\w+)?`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, cited)
	for _, m := range cited {
		dir := m[1]
		switch dir {
		case "":
			dir = "."
		case "cli": // the CLI, cmd/condasigs
			dir = filepath.Join("cmd", "condasigs")
		case "cigate", "preflight", "mirror", "quickstart": // examples/<name>
			dir = filepath.Join("examples", dir)
		case "textsafe", "verdictcache", "atomicfile": // internal/<name>
			dir = filepath.Join("internal", dir)
		}
		files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		require.NoError(t, err)
		found := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			if strings.Contains(string(b), "func "+m[2]+"(") {
				found = true
				break
			}
		}
		assert.True(t, found, "SECURITY.md cites %s.%s, which does not exist", dir, m[2])
	}
}

// TestReadmeListsEveryCode: each stable code of fetch and attest is in the
// README's table.
func TestReadmeListsEveryCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "## Failure codes")
	require.True(t, ok)
	codes := []string{}
	for _, k := range []fetch.Kind{fetch.KindNotAdvertised, fetch.KindInvalidDigest, fetch.KindInvalidURL, fetch.KindNotFound,
		fetch.KindHTTPStatus, fetch.KindNetwork, fetch.KindTooLarge, fetch.KindHashMismatch, fetch.KindMalformed} {
		codes = append(codes, string(k))
	}
	for _, c := range []attest.Code{attest.CodeBundleMalformed, attest.CodeBundleUnsupported, attest.CodeNotDSSE, attest.CodeTransparencyLog,
		attest.CodeTimestamp, attest.CodeCertificate, attest.CodeSCT, attest.CodeSignature, attest.CodeSigstore, attest.CodeStatementMalformed,
		attest.CodeStatementType, attest.CodePredicateType, attest.CodeSubjectCount, attest.CodeSubjectName, attest.CodeSubjectDigest,
		attest.CodePredicateMalformed, attest.CodePackageDigestAbsent} {
		codes = append(codes, string(c))
	}
	codes = append(codes, policy.CodeRecordInconsistent, policy.CodeLockUnbound, condasigs.CodePackageDownloaded, condasigs.CodeTrustRootAgeUnknown)
	for _, c := range codes {
		assert.Contains(t, table, "`"+c+"`")
	}
}
