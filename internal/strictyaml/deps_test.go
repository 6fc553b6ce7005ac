package strictyaml_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/condasigs/condasigs"

// goList runs go list with args in the module and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.CommandContext(t.Context(), goTool, append([]string{"list"}, args...)...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.Fields(string(out))
}

// TestYAMLReadersUseStrictYAML checks the import graph: YAML is read
// strictly in one place. The lock-file parser and the policy configuration
// read it through this package; fetch (retrieval, records and caches)
// reads none.
func TestYAMLReadersUseStrictYAML(t *testing.T) {
	for _, dep := range goList(t, "-deps", module+"/fetch") {
		assert.NotContains(t, strings.ToLower(dep), "yaml", "fetch depends on %s", dep)
	}
	for _, pkg := range []string{"lockfile", "policy"} {
		imports := goList(t, "-f", `{{join .Imports " "}}`, module+"/"+pkg)
		assert.True(t, slices.Contains(imports, module+"/internal/strictyaml"), "%s does not import internal/strictyaml: %v", pkg, imports)
	}
}
