package condasigs_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/condasigs/condasigs"

// TestImportGraphIsThePipeline: the packages import each other as data
// flows (record → fetch → attest, with trustroot → policy → report), the
// rules without I/O live in the leaf package conda, and nothing but the
// root composes. A package's dependencies are read from its sources,
// tests excluded.
func TestImportGraphIsThePipeline(t *testing.T) {
	allowed := map[string][]string{ // package → the module's packages it may import
		"conda":     {"internal/textsafe"},
		"lockfile":  {"conda", "internal/textsafe", "internal/strictyaml", "internal/localfile"},
		"fetch":     {"conda", "internal/textsafe", "internal/atomicfile", "internal/cachedir", "internal/cep16", "internal/localfile", "internal/recordfield"},
		"attest":    {"conda", "internal/textsafe"},
		"policy":    {"conda", "attest", "internal/textsafe", "internal/strictyaml", "internal/atomicfile", "internal/nearest", "internal/localfile"},
		"trustroot": {"conda", "fetch", "internal/textsafe", "internal/atomicfile", "internal/cachedir", "internal/trustdoc", "internal/localfile"},
	}
	// Third-party packages only some may import.
	restricted := map[string][]string{
		"github.com/hashicorp/go-retryablehttp": {"fetch"},
		"go.yaml.in/yaml/v3":                    {"internal/strictyaml", "lockfile", "policy"},
		"gopkg.in/yaml.v3":                      {},
		"github.com/tinylib/msgp/msgp":          {"internal/cep16"},
		"github.com/klauspost/compress/zstd":    {"fetch", "internal/cep16"},
	}
	deps := map[string][]string{}
	for pkg := range allowed {
		deps[pkg] = imports(t, pkg)
	}
	for pkg, imps := range deps {
		for _, imp := range imps {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				assert.Contains(t, allowed[pkg], rel, "%s imports %s, against the pipeline", pkg, rel)
				continue
			}
			if who, ok := restricted[imp]; ok {
				assert.Contains(t, who, pkg, "%s imports %s", pkg, imp)
			}
		}
	}
	// Transitively: attest and policy reach neither fetch nor its HTTP
	// client.
	for _, pkg := range []string{"attest", "policy", "conda", "lockfile"} {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(p string) {
			if seen[p] {
				return
			}
			seen[p] = true
			if _, ok := allowed[p]; !ok && !strings.HasPrefix(p, "internal/") {
				return
			}
			for _, imp := range imports(t, p) {
				if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
					walk(rel)
				}
			}
		}
		walk(pkg)
		assert.False(t, seen["fetch"], "%s depends on fetch", pkg)
	}
}

// imports returns the imports of the non-test files of the module's
// package at dir.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(filepath.FromSlash(dir), "*.go"))
	require.NoError(t, err)
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range file.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			out = append(out, p)
		}
	}
	return out
}
