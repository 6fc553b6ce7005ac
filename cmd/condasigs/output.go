package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
)

// reportVersion is the version of the JSON report's shape. It changes only
// when a field is removed or changes meaning.
const reportVersion = 1

type jsonReport struct {
	Version  int                 `json:"version"`
	Packages []*condasigs.Report `json:"packages"`
}

func render(w io.Writer, format string, reports []*condasigs.Report) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonReport{Version: reportVersion, Packages: reports})
	}
	var b strings.Builder
	for _, r := range reports {
		writeText(&b, r, "")
	}
	_, err := io.WriteString(w, printable(b.String()))
	return err
}

// writeText writes one report: a line with the outcome, the file (after
// where, if given) and the status, then one line per reason.
func writeText(b *strings.Builder, r *condasigs.Report, where string) {
	fmt.Fprintf(b, "%-4s %s%s  %s", strings.ToUpper(string(r.Outcome)), where, r.Filename, r.Status)
	if r.Signer != nil {
		fmt.Fprintf(b, "  signer %s (issuer %s)", r.Signer.SAN, r.Signer.Issuer)
	}
	b.WriteByte('\n')
	for _, reason := range r.Reasons {
		bundle := ""
		if reason.Bundle != nil {
			bundle = fmt.Sprintf("bundle %d: ", *reason.Bundle)
		}
		fmt.Fprintf(b, "     %s: %s%s [%s]\n", severityWord(reason.Severity), bundle, reason.Message, reason.Code)
	}
}

// printable replaces control characters other than newlines, which
// names, identities and messages taken from channels and certificates
// could use to rewrite the terminal, with U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && (r < 0x20 || (r >= 0x7f && r < 0xa0)) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func severityWord(s policy.Severity) string {
	switch s {
	case policy.SeverityError:
		return "error"
	case policy.SeverityWarning:
		return "warning"
	}
	return "note"
}

// envReport is verify-env's JSON output: the report of verify, version 1,
// with the input, a summary and each package's line in the input.
type envReport struct {
	Version  int                  `json:"version"`
	Input    *envInput            `json:"input,omitempty"`
	Summary  envSummary           `json:"summary"`
	Packages []envPackage         `json:"packages"`
	Skipped  []fetch.SkippedEntry `json:"skipped,omitempty"`
}

type envInput struct {
	File   string `json:"file"`
	Format string `json:"format"`
}

type envSummary struct {
	Total   int `json:"total"`
	Passed  int `json:"passed"`
	Warned  int `json:"warned"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// envPackage is a report and where the input lists its package.
type envPackage struct {
	*condasigs.Report
	Line int `json:"line,omitempty"`
}

// renderEnv prints verify-env's result: in text, the failures and warnings
// in full and a summary line; in JSON, everything.
func renderEnv(w io.Writer, format string, env envReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(env)
	}
	var b strings.Builder
	for _, want := range []policy.Outcome{policy.Fail, policy.Warn} {
		for _, p := range env.Packages {
			if p.Outcome == want {
				writeText(&b, p.Report, fmt.Sprintf("%s:%d: ", env.Input.File, p.Line))
			}
		}
	}
	if _, err := io.WriteString(w, printable(b.String())); err != nil {
		return err
	}
	s := env.Summary
	line := fmt.Sprintf("%s: %d packages: %d passed, %d warned, %d failed", env.Input.File, s.Total, s.Passed, s.Warned, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(" (%d entries skipped: not channel packages, or another platform)", s.Skipped)
	}
	_, err := fmt.Fprintln(w, printable(line))
	return err
}
