package main

import (
	"bytes"
	"fmt"
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
