package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPinLifecycle(t *testing.T) {
	pins := filepath.Join(t.TempDir(), "pins.json")
	args := func(cmd string, extra ...string) []string {
		return append([]string{cmd, "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", "github", "--channel", upstream, "--pins", pins}, append(extra, fileURL(t))...)
	}

	code, _, errOut := runCLI(t, args("pin")...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "pinned signed-package on "+upstream+" to repository https://github.com/prefix-dev/sigstore-example")
	store, err := policy.LoadPins(pins)
	require.NoError(t, err)
	pin, ok := store.Get(upstream, "signed-package")
	require.True(t, ok)
	assert.NotEmpty(t, pin.RepositoryID, "the immutable repository ID is pinned")

	code, _, errOut = runCLI(t, args("pin")...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut, "unchanged")

	code, out, _ := runCLI(t, args("verify", "--pin", "error")...)
	assert.Equal(t, exitOK, code, out)

	// Another repository took over the package name.
	tampered := strings.Replace(readFile(t, pins), pin.RepositoryID, "1", 1)
	require.NoError(t, os.WriteFile(pins, []byte(tampered), 0o644))
	code, out, _ = runCLI(t, args("verify", "--pin", "error")...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "[signer-changed]")
	code, out, _ = runCLI(t, args("verify", "--pin", "warn")...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "WARN ")

	code, _, errOut = runCLI(t, args("pin")...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "run again with --replace")
	assert.Equal(t, tampered, readFile(t, pins), "a conflict leaves the file alone")

	code, _, errOut = runCLI(t, args("pin", "--replace")...)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "replaced the pin")
	code, _, _ = runCLI(t, args("verify", "--pin", "error")...)
	assert.Equal(t, exitOK, code)
}

func TestPinErrors(t *testing.T) {
	code, _, errOut := runCLI(t, "pin", "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", "github", fileURL(t))
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "--pins FILE is required")

	corrupt := filepath.Join(t.TempDir(), "pins.json")
	require.NoError(t, os.WriteFile(corrupt, []byte("{not json"), 0o644))
	for _, cmd := range []string{"pin", "verify"} {
		code, _, errOut = runCLI(t, cmd, "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", "github", "--pins", corrupt, fileURL(t))
		assert.Equal(t, exitProblem, code, cmd)
		assert.Contains(t, errOut, "corrupt", cmd)
	}

	code, _, errOut = runCLI(t, verifyArgs("--pin", "error", fileURL(t))...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "--pin needs --pins")
}

func TestVerifyWithConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "condasigs.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`attestations:
  https://prefix.dev/sigstore-example:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://github.com/prefix-dev/sigstore-example/.github/workflows/*@refs/heads/main"
        issuer: github
        runner_environment: github-hosted
`), 0o644))
	code, out, errOut := runCLI(t, "verify", "--trusted-root", trustedRoot, "--config", cfg, "--channel", upstream, fileURL(t))
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS ")

	// The file's rule refuses self-hosted runners; the real bundle ran on
	// a GitHub-hosted one, so only a changed rule can fail it.
	strict := strings.Replace(readFile(t, cfg), "github-hosted", "self-hosted", 1)
	require.NoError(t, os.WriteFile(cfg, []byte(strict), 0o644))
	code, out, _ = runCLI(t, "verify", "--trusted-root", trustedRoot, "--config", cfg, "--channel", upstream, fileURL(t))
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "[untrusted-identity]")

	// No entry for the channel: not checked, and warned about.
	code, out, _ = runCLI(t, "verify", "--trusted-root", trustedRoot, "--config", cfg, fileURL(t))
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "disabled")
	assert.Contains(t, out, "WARN ")
	assert.Contains(t, out, "no policy entry covers channel")

	code, _, errOut = runCLI(t, "verify", "--trusted-root", trustedRoot, "--config", cfg, "--require", "warn", fileURL(t))
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "--require cannot be combined with --config")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("attestations:\n  conda-forge:\n    enabled: true\n"), 0o644))
	code, _, errOut = runCLI(t, "verify", "--trusted-root", trustedRoot, "--config", bad, fileURL(t))
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "bad.yaml:")
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func TestPinWithConfigWithoutPinRule(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "condasigs.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`attestations:
  https://prefix.dev/sigstore-example:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://github.com/prefix-dev/sigstore-example/*"
        issuer: github
`), 0o644))
	pins := filepath.Join(t.TempDir(), "pins.json")
	code, _, errOut := runCLI(t, "pin", "--trusted-root", trustedRoot, "--config", cfg, "--channel", upstream, "--pins", pins, fileURL(t))
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut, `not pinned: `+pkgName+`, because its policy entry "https://prefix.dev/sigstore-example" does not pin signers`)
	assert.NoFileExists(t, pins)
}
