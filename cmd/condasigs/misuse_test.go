package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMisuseExits2: a CI gate with a typo must never pass, nor fail as if
// a package failed. Each misuse exits 2 and says what to do.
func TestMisuseExits2(t *testing.T) {
	config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256)
	dir := t.TempDir()
	onlyHeader := filepath.Join(dir, "empty.txt")
	require.NoError(t, os.WriteFile(onlyHeader, []byte("@EXPLICIT\n"), 0o644))
	pypiOnly := filepath.Join(dir, "pixi.lock")
	require.NoError(t, os.WriteFile(pypiOnly, []byte(`version: 6
environments:
  default:
    channels:
    - url: https://conda.anaconda.org/conda-forge/
    packages:
      linux-64:
      - pypi: https://files.pythonhosted.org/packages/ab/cd/requests-2.32.3-py3-none-any.whl
packages:
- pypi: https://files.pythonhosted.org/packages/ab/cd/requests-2.32.3-py3-none-any.whl
  name: requests
  version: 2.32.3
`), 0o644))

	cases := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"platform typo", envArgs(config, explicit, "--no-cache", "--platform", "linux64"),
			[]string{"usage: --platform linux64: ", "has no package for it; its packages are for linux-64: give one of those, or leave --platform out"}},
		{"platform the file has no package for", envArgs(config, explicit, "--no-cache", "--platform", "linux-64", "--platform", "osx-arm64"),
			[]string{"usage: --platform osx-arm64: ", "its packages are for linux-64"}},
		{"explicit file with @EXPLICIT only", envArgs(config, onlyHeader, "--no-cache"),
			[]string{"usage: " + onlyHeader + " lists no conda package to verify: give the lock file"}},
		{"lock file with no conda package", envArgs(config, pypiOnly, "--no-cache"),
			[]string{"lists no conda package to verify (its 1 entries are not channel packages)"}},
		{"max-sidecar-size 0", verifyArgs("--max-sidecar-size", "0", fileURL(t)),
			[]string{"usage: --max-sidecar-size must be a positive number of bytes, not 0; leave it out for the default, 4194304"}},
		{"max-sidecar-size negative", verifyArgs("--max-sidecar-size", "-5", fileURL(t)),
			[]string{"--max-sidecar-size must be a positive number of bytes, not -5"}},
		{"verify-env max-sidecar-size 0", envArgs(config, explicit, "--no-cache", "--max-sidecar-size", "0"),
			[]string{"--max-sidecar-size must be a positive number of bytes"}},
		{"channel not a URL", verifyArgs("--channel", "not a url", fileURL(t)),
			[]string{`usage: --channel "not a url" is not an http, https or file URL: give the URL of the channel the packages were published to`}},
		{"channel a name", verifyArgs("--channel", "conda-forge", fileURL(t)),
			[]string{`--channel "conda-forge" is not an http, https or file URL`}},
		{"channel URL refused", verifyArgs("--channel", "https://conda.anaconda.org/conda-forge\\x", fileURL(t)),
			[]string{"usage: --channel: ", "give the URL of the channel"}},
		{"channel empty", verifyArgs("--channel", "", fileURL(t)),
			[]string{"usage: --channel is empty"}},
		{"repodata missing", verifyArgs("--channel", upstream, "--repodata", filepath.Join(dir, "missing.json"), fileURL(t)),
			[]string{"usage: --repodata: ", "missing.json: no such file or directory: give the path of the repodata.json of the packages' subdir, or leave --repodata out"}},
		{"repodata a directory", verifyArgs("--channel", upstream, "--repodata", dir, fileURL(t)),
			[]string{"usage: --repodata " + dir + " is not a file"}},
		{"pin repodata missing", []string{"pin", "--pins", filepath.Join(dir, "p.json"), "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", ghIssuer,
			"--repodata", filepath.Join(dir, "missing.json"), fileURL(t)}, []string{"usage: --repodata: "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			assert.Equal(t, exitProblem, code, out+errOut)
			for _, w := range c.want {
				assert.Contains(t, errOut, w)
			}
			assert.Empty(t, out, "nothing verified, nothing reported")
		})
	}
}

// silentChannel is a channel server that never answers: each request
// waits until the client gives up.
func silentChannel(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestVerifyEnvJSONListsErrors: with a channel that never answers, the
// JSON report still lists every package of the lock file, with status
// error and the error, and counts them. --timeout bounds the whole run, so
// the package of the channel that answers is not verified either.
func TestVerifyEnvJSONListsErrors(t *testing.T) {
	silent := silentChannel(t)
	config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256,
		silent+"/linux-64/a-1.0-0.conda#"+strings.Repeat("ab", 32),
		silent+"/noarch/b-2.0-0.tar.bz2#"+strings.Repeat("cd", 32))
	// The policy's catch-all covers the silent channel.
	cfg, err := os.ReadFile(config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(config, append(cfg, []byte(`  "*":
    enabled: true
    require: error
    trusted_identities:
      - identity: "`+wfSAN+`"
        issuer: github
`)...), 0o644))

	code, out, errOut := runCLI(t, envArgs(config, explicit, "--no-cache", "--timeout", "1s", "--format", "json")...)
	assert.Equal(t, exitProblem, code, errOut)
	assert.Contains(t, errOut, "3 of 3 packages could not be verified: the report gives each one's error (status error, code not-verified); --timeout 1s ran out")
	requireValid(t, reportSchema(t), out)
	var doc struct {
		Summary  map[string]int
		Packages []struct {
			Filename, Outcome, Status string
			Line                      int
			Reasons                   []struct{ Code, Message string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, map[string]int{"total": 3, "passed": 0, "warned": 0, "failed": 3, "errors": 3, "skipped": 0}, doc.Summary)
	require.Len(t, doc.Packages, 3, "every package of the lock file")
	for i, name := range []string{pkgName, "a-1.0-0.conda", "b-2.0-0.tar.bz2"} {
		p := doc.Packages[i]
		assert.Equal(t, name, p.Filename)
		assert.Equal(t, i+3, p.Line)
		assert.Equal(t, "fail", p.Outcome, "not verified is not passed")
		assert.Equal(t, "error", p.Status)
		require.Len(t, p.Reasons, 1)
		assert.Equal(t, "not-verified", p.Reasons[0].Code)
		assert.Contains(t, p.Reasons[0].Message, "not verified: ")
	}

	// In text, they are listed as failures with their error.
	code, out, _ = runCLI(t, envArgs(config, explicit, "--no-cache", "--timeout", "1s")...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, out, "FAIL "+explicit+":4: a-1.0-0.conda  error\n     error: not verified: ")
	assert.Contains(t, out, ": 3 packages: 0 passed, 0 warned, 3 failed (3 not verified: see their errors)\n")
}

// TestVerifyJSONListsErrors: verify stops at the first package it cannot
// decide on, and still reports every package asked for: those verified
// before with their outcome, the others with status error.
func TestVerifyJSONListsErrors(t *testing.T) {
	silent := silentChannel(t)
	code, out, errOut := runCLI(t, verifyArgs("--channel", upstream, "--timeout", "1s", "--format", "json",
		fileURL(t), silent+"/linux-64/a-1.0-0.conda", silent+"/linux-64/b-1.0-0.conda")...)
	assert.Equal(t, exitProblem, code, errOut)
	requireValid(t, reportSchema(t), out)
	var doc struct {
		Packages []struct{ Filename, Outcome, Status string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Packages, 3, out)
	// Records are read before anything is verified, so the deadline
	// ends the whole batch: every package is listed, none as a pass.
	for _, p := range doc.Packages {
		assert.Equal(t, "fail", p.Outcome)
		assert.Equal(t, "error", p.Status)
	}
}
