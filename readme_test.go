package condasigs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	assert.Equal(t, "conda-forge", mustFor(t, rules, "https://conda.anaconda.org/conda-forge").Entry)
	assert.Equal(t, "*", mustFor(t, rules, "https://conda.anaconda.org/conda-forge-staging").Entry)
	assert.Equal(t, "https://conda.example.com/my-org", mustFor(t, rules, "https://mirror.example.com/my-org").Channel)
	assert.False(t, mustFor(t, rules, "https://conda.anaconda.org/bioconda").Enabled)
	assert.Equal(t, policy.ModeWarn, cfg.Channels[0].Pinning, "the conda-forge entry pins")
}

func mustFor(t testing.TB, r *policy.CompiledConfig, channel string) policy.Match {
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
		case "textsafe", "verdictcache", "atomicfile", "cachedir", "localfile": // internal/<name>
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

// TestReadmeListsEveryCode: the README's table of codes lists exactly the
// stable codes: the constants of type fetch.Kind, attest.Code and
// policy.Code, and the CLI's own, read from their source so that a new
// constant cannot be missed.
func TestReadmeListsEveryCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "## Failure codes")
	require.True(t, ok)
	table, _, _ = strings.Cut(table, "\n## ")
	listed := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z0-9-]+)`").FindAllStringSubmatch(cells[1], -1) {
			listed[m[1]] = true
		}
	}
	consts := map[string]bool{}
	for _, src := range []struct{ dir, typ string }{
		{"fetch", "Kind"}, {"attest", "Code"}, {"policy", "Code"}, {filepath.Join("cmd", "condasigs"), "reportCode"},
	} {
		n := 0
		for c := range stringConsts(t, src.dir, src.typ) {
			consts[c] = true
			n++
		}
		require.NotZero(t, n, "no constants of type %s in %s", src.typ, src.dir)
	}
	for c := range consts {
		assert.True(t, listed[c], "README's table of codes lacks `%s`", c)
	}
	for c := range listed {
		assert.True(t, consts[c], "README's table of codes lists `%s`, which is no code constant", c)
	}
}

// stringConsts returns the values of the string constants of type typ
// declared in the non-test files of dir.
func stringConsts(t *testing.T, dir, typ string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, err := strconv.Unquote(lit.Value)
						require.NoError(t, err)
						out[s] = true
					}
				}
			}
		}
	}
	return out
}
