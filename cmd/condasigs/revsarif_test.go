package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
)

// GitHub shows nothing of a step summary over 1 MiB. A channel whose
// signed statements carry huge predicate types or subject names (100
// bundles of 40 KB), or an environment with thousands of failures, must
// not push the summary over it and so hide every failure: the summary
// stays under the limit, its counts first, and says how many rows it
// leaves out.
func TestMarkdownSummaryBounded(t *testing.T) {
	huge := strings.Repeat("\u200b<|", 40<<10/7)
	var reasons []policy.Reason
	for i := range attest.MaxBundles {
		b := i
		reasons = append(reasons, policy.Reason{Code: policy.CodeUnknownPredicate, Severity: policy.SeverityError, Bundle: &b, Message: huge})
	}
	hostile := envPackage{Line: 2, Report: &condasigs.Report{Filename: "evil-1-0.conda", Channel: "https://evil.example", Outcome: policy.Fail,
		Status: policy.StatusVerificationFailure, Bundles: []attest.Evidence{}, Reasons: reasons}}
	many := []envPackage{hostile}
	for i := range 20000 {
		many = append(many, envPackage{Line: i + 3, Report: &condasigs.Report{Filename: fmt.Sprintf("pkg%d-1-0.conda", i), Channel: "https://conda.anaconda.org/conda-forge",
			Outcome: policy.Fail, Status: policy.StatusUnsigned, Bundles: []attest.Evidence{},
			Reasons: []policy.Reason{{Code: policy.CodeUnsigned, Severity: policy.SeverityError, Message: "the package has no attestations and the policy requires them"}}}})
	}
	for name, c := range map[string]struct {
		pkgs    []envPackage
		omitted bool
	}{"huge messages": {[]envPackage{hostile}, false}, "many failures": {many, true}} {
		pkgs := c.pkgs
		t.Run(name, func(t *testing.T) {
			env := envReport{Input: &envInput{File: "pixi.lock"}, Packages: pkgs, Summary: envSummary{Total: len(pkgs), Failed: len(pkgs)}}
			var buf bytes.Buffer
			require.NoError(t, writeMarkdown(&buf, env))
			out := buf.String()
			require.Less(t, len(out), 1<<20, "under GitHub's 1 MiB step-summary limit")
			assert.Contains(t, out, fmt.Sprintf("**%d failed**", len(pkgs)))
			assert.Equal(t, c.omitted, strings.Contains(out, "more findings are not listed"))
			assert.Contains(t, out, "| ❌ error | evil-1-0.conda |", "the first failure is listed")
			assert.Contains(t, out, "...", "a long message is cut")
		})
	}
}

// verify-env --pins records no pin: a package the pin file has no pin for
// passes whoever of the trusted identities signed it. A pull request that
// adds such a package, or moves one to a channel spelling the pins do not
// name, must leave a trace in the CI outputs: a note result in SARIF, and
// a row and a count in markdown. Pinned packages give none.
func TestVerifyEnvUnpinnedShows(t *testing.T) {
	p := newPinChannel(t)
	const first = "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"
	const other = "https://github.com/example/fork/.github/workflows/release.yml@refs/tags/v1.1"
	sha := map[string]string{"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", first)}
	lock, _ := p.lock(t, []string{"alpha-1.0-0.conda"}, sha)
	pins := filepath.Join(p.dir, "condasigs-pins.json")
	code, out, errOut := runCLI(t, p.args("pin", "--pins", pins, lock)...)
	require.Equal(t, exitOK, code, out+errOut)

	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", "--format", "sarif", lock)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, parseSARIF(t, compileSARIFSchema(t), out).Runs[0].Results, "a pinned package gives no result")
	assert.NotContains(t, errOut, "have no pin")

	sha["gamma-1.0-0.conda"] = p.add(t, "gamma-1.0-0.conda", other)
	lock, at := p.lock(t, []string{"alpha-1.0-0.conda", "gamma-1.0-0.conda"}, sha)
	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", "--format", "sarif", lock)...)
	require.Equal(t, exitOK, code, errOut)
	d := parseSARIF(t, compileSARIFSchema(t), out)
	require.Len(t, d.Runs[0].Results, 1, out)
	r := d.Runs[0].Results[0]
	assert.Equal(t, string(policy.CodePinNew), r.RuleID)
	assert.Equal(t, "note", r.Level)
	assert.Equal(t, "gamma-1.0-0.conda", r.Properties.Package)
	assert.Equal(t, at["gamma-1.0-0.conda"], r.Locations[0].PhysicalLocation.Region.StartLine)
	assert.Contains(t, r.Message.Text, "not pinned")
	assert.Contains(t, errOut, "condasigs: warning: 1 packages have no pin in "+pins+" (gamma-1.0-0.conda)")

	code, _, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", lock)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "1 packages have no pin", "in text too")

	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", "--format", "markdown", lock)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "**1 not pinned**")
	assert.Contains(t, out, "| 📌 not pinned | gamma-1.0-0.conda |")
	assert.NotContains(t, out, "| alpha-1.0-0.conda |")

	// Without --pins nothing is compared, and nothing is listed as unpinned.
	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--format", "markdown", lock)...)
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "not pinned")
}

// verify and verify-env read pins and record none: a --pins FILE that does
// not exist (a typo, or a pull request that deletes the pin file) would
// compare no signer and pass every package. It is refused, exit 2; pin,
// which creates the file, still takes a path that does not exist.
func TestVerifyPinsFileMissingRefused(t *testing.T) {
	p := newPinChannel(t)
	sha := map[string]string{"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", "")}
	lock, _ := p.lock(t, []string{"alpha-1.0-0.conda"}, sha)
	missing := filepath.Join(p.dir, "condasigs-pin.json")
	for _, format := range []string{"text", "sarif", "markdown"} {
		code, out, errOut := runCLI(t, p.args("verify-env", "--no-cache", "--pins", missing, "--pin", "error", "--format", format, lock)...)
		assert.Equal(t, exitProblem, code, format)
		assert.Empty(t, out, format)
		assert.Contains(t, errOut, "condasigs-pin.json does not exist, and verify-env compares signers with pins but records none", format)
	}
	code, _, errOut := runCLI(t, p.args("verify", "--pins", missing, "--pin", "error", p.vc.packageURL("alpha-1.0-0.conda"))...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "does not exist, and verify compares signers")

	code, _, errOut = runCLI(t, p.args("pin", "--pins", missing, lock)...)
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", missing, "--pin", "error", lock)...)
	assert.Equal(t, exitOK, code, errOut)
}

// A package that verifies but whose lock entry binds no sha256 gives no
// signer to pin (trust on first use learns only from what gets
// installed): pin says so, instead of blaming a policy entry that does pin.
func TestPinLockUnboundSaysWhy(t *testing.T) {
	p := newPinChannel(t)
	p.add(t, "alpha-1.0-0.conda", "")
	lock := filepath.Join(p.dir, "env.txt")
	require.NoError(t, os.WriteFile(lock, []byte("@EXPLICIT\n"+p.base+"/linux-64/alpha-1.0-0.conda\n"), 0o644))
	pins := filepath.Join(p.dir, "pins.json")
	code, out, errOut := runCLI(t, p.args("pin", "--pins", pins, "--require", "warn", lock)...)
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, errOut, "not pinned: alpha-1.0-0.conda, because its lock entry gives the installer no sha256 to check (lock-unbound)")
	assert.NotContains(t, errOut, "does not pin signers")
	assert.NoFileExists(t, pins)
}
