package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// TestJSONReportMatchesSchema validates real JSON output (a pass, a
// failure with bundle evidence, a repodata failure, a disabled channel)
// against the published schema, docs/report.schema.json.
func TestJSONReportMatchesSchema(t *testing.T) {
	schema := reportSchema(t)

	cfg := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("attestations:\n  conda-forge:\n    enabled: true\n    require: error\n    trusted_identities:\n      - identity: x\n        issuer: github\n"), 0o644))
	missing := strings.Replace(fileURL(t), pkgName, "absent-1.0-0.conda", 1)
	pins := filepath.Join(t.TempDir(), "p.json") // verify reads pins, and needs the file
	require.NoError(t, os.WriteFile(pins, []byte(`{"version":1,"pins":{}}`), 0o600))
	runs := [][]string{
		verifyArgs("--format", "json", "--channel", upstream, "--pins", pins, "--pin", "warn", fileURL(t)),
		verifyArgs("--format", "json", fileURL(t), missing),
		{"verify", "--format", "json", "--trusted-root", trustedRoot, "--config", cfg, fileURL(t)},
	}
	for _, args := range runs {
		_, out, errOut := runCLI(t, args...)
		require.NotEmpty(t, out, errOut)
		requireValid(t, schema, out)
		var v struct{ Packages []json.RawMessage }
		require.NoError(t, json.Unmarshal([]byte(out), &v))
		require.NotEmpty(t, v.Packages)
	}
}

// reportSchema compiles docs/report.schema.json, formats asserted.
func reportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "docs", "report.schema.json"))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	schema, err := c.Compile(path)
	require.NoError(t, err)
	return schema
}

// requireValid checks a JSON output against the schema.
func requireValid(t *testing.T, schema *jsonschema.Schema, out string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(out)))
	require.NoError(t, err)
	require.NoError(t, schema.Validate(doc), "output:\n%s", out)
}
