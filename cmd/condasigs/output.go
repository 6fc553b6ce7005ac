package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// reportVersion is the version of the JSON report's shape. It changes only
// when a field is removed or changes meaning.
const reportVersion = 1

// A package the run could not decide on (a timeout, a cancellation, an
// unusable trusted root) is reported as failed, with status statusError and
// one reason of code codeNotVerified that holds the error: every package
// asked for is in the report, and none of those passes.
const statusError policy.Status = "error"

// reportCode is a code the CLI adds to reports: a policy.Code of its own.
type reportCode = policy.Code

// codeNotVerified is the code of the reason of a package not verified.
const codeNotVerified reportCode = "not-verified"

// ruleRun is the rule of that reason.
const ruleRun = "run"

// flagHints say, after a reason whose library message names library
// fields, what to do with this tool's flags.
var flagHints = map[policy.Code]string{
	policy.CodeTargetChannelMismatch: " (here: --channel URL names the channel; --channel-mismatch warn allows mirrors)",
	policy.CodeSignerChanged:         " (here: condasigs pin --replace records the new signer)",
}

// fieldHints say, after a reason whose message names a library field,
// whatever its code, what to do with this tool's flags.
var fieldHints = []struct{ field, hint string }{
	{"fetch.Options.RecordSources", " (here: --record-source zst,json reads repodata.json instead)"},
}

// flagHint is the hint said after reason, if any.
func flagHint(reason policy.Reason) string {
	if h, ok := flagHints[reason.Code]; ok {
		return h
	}
	for _, fh := range fieldHints {
		if strings.Contains(reason.Message, fh.field) {
			return fh.hint
		}
	}
	return ""
}

// errorReport is the report of a package that could not be verified
// because of err.
func errorReport(rawURL string, err error) *condasigs.Report {
	rep := &condasigs.Report{Filename: conda.Redact(rawURL), URL: conda.Redact(rawURL),
		Outcome: policy.Fail, Status: statusError, Bundles: []attest.Evidence{},
		Reasons: []policy.Reason{{Rule: ruleRun, Code: codeNotVerified, Severity: policy.SeverityError,
			Message: "not verified: " + strings.TrimPrefix(err.Error(), "condasigs: ")}}}
	if loc, lerr := conda.SplitPackageURL(rawURL); lerr == nil {
		rep.Filename, rep.Channel, rep.Subdir = loc.Filename, conda.Redact(loc.Channel), loc.Subdir
	}
	return rep
}

type jsonReport struct {
	Version  int                 `json:"version"`
	Packages []*condasigs.Report `json:"packages"`
}

func render(w io.Writer, format string, reports []*condasigs.Report) error {
	if format == "json" {
		return writeJSON(w, jsonReport{Version: reportVersion, Packages: reports})
	}
	var b strings.Builder
	for _, r := range reports {
		writeText(&b, r, "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON writes v as indented JSON whose strings hold no character
// that could drive a terminal or reorder text (see textsafe.EscapeJSON):
// the report is printed to CI logs too. The values are unchanged.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(textsafe.EscapeJSON(buf.Bytes()))
	return err
}

// writeText writes one report: a line with the outcome, the file (after
// where, if given) and the status, then one line per reason. Every field
// may come from a channel, a certificate or a lock file, and reason
// messages quote them: each is escaped (textsafe.Escape), so that the
// line breaks are writeText's own and nothing drives the terminal.
func writeText(b *strings.Builder, r *condasigs.Report, where string) {
	esc := textsafe.Escape
	fmt.Fprintf(b, "%-4s %s%s  %s", strings.ToUpper(string(r.Outcome)), esc(where), esc(r.Filename), esc(string(r.Status)))
	if r.Signer != nil {
		fmt.Fprintf(b, "  signer %s (issuer %s)", esc(r.Signer.SAN), esc(r.Signer.Issuer))
	}
	b.WriteByte('\n')
	for _, reason := range r.Reasons {
		bundle := ""
		if reason.Bundle != nil {
			bundle = fmt.Sprintf("bundle %d: ", *reason.Bundle)
		}
		fmt.Fprintf(b, "     %s: %s%s%s [%s]\n", severityWord(reason.Severity), bundle, esc(reason.Message), flagHint(reason), esc(string(reason.Code)))
	}
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
	Version  int                `json:"version"`
	Input    *envInput          `json:"input,omitempty"`
	Summary  envSummary         `json:"summary"`
	Packages []envPackage       `json:"packages"`
	Skipped  []lockfile.Skipped `json:"skipped,omitempty"`
	// pinned is set when verify-env compared signers with a pin file:
	// the SARIF and markdown outputs then list the packages it has no
	// pin for (unpinned).
	pinned bool
}

type envInput struct {
	File   string `json:"file"`
	Format string `json:"format"`
}

// envSummary counts the packages by outcome: Total is Passed + Warned +
// Failed. Errors counts those of the failed that could not be verified
// (status "error").
type envSummary struct {
	Total   int `json:"total"`
	Passed  int `json:"passed"`
	Warned  int `json:"warned"`
	Failed  int `json:"failed"`
	Errors  int `json:"errors"`
	Skipped int `json:"skipped"`
	// Sources says where each channel subdir's records came from.
	Sources []envSource `json:"sources,omitempty"`
}

// envSource is the repodata document one channel subdir's records were
// read from.
type envSource struct {
	Subdir   string `json:"subdir"` // redacted
	Source   string `json:"source"`
	Packages int    `json:"packages"`
}

// addSource counts a package whose record was read from r.RecordSource.
func (s *envSummary) addSource(r *condasigs.Report) {
	if r.RecordSource == "" {
		return
	}
	subdir := r.URL
	if i := strings.LastIndexByte(subdir, '/'); i >= 0 {
		subdir = subdir[:i]
	}
	for i := range s.Sources {
		if s.Sources[i].Subdir == subdir && s.Sources[i].Source == r.RecordSource {
			s.Sources[i].Packages++
			return
		}
	}
	s.Sources = append(s.Sources, envSource{Subdir: subdir, Source: r.RecordSource, Packages: 1})
}

// envPackage is a report and where the input lists its package.
type envPackage struct {
	*condasigs.Report
	Line int `json:"line,omitempty"`
}

// renderEnv prints verify-env's result: in text, the failures (those not
// verified included) and warnings in full and a summary line; in JSON,
// everything; in SARIF and markdown, see writeSARIF and writeMarkdown.
func renderEnv(w io.Writer, format string, env envReport) error {
	switch format {
	case "json":
		return writeJSON(w, env)
	case "sarif":
		return writeSARIF(w, env)
	case "markdown":
		return writeMarkdown(w, env)
	}
	var b strings.Builder
	for _, want := range []policy.Outcome{policy.Fail, policy.Warn} {
		for _, p := range env.Packages {
			if p.Outcome == want {
				writeText(&b, p.Report, fmt.Sprintf("%s:%d: ", env.Input.File, p.Line))
			}
		}
	}
	s := env.Summary
	for _, src := range s.Sources {
		fmt.Fprintf(&b, "records of %s: %s (%d packages)\n", textsafe.Escape(src.Subdir), textsafe.Escape(src.Source), src.Packages)
	}
	fmt.Fprintf(&b, "%s: %d packages: %d passed, %d warned, %d failed", textsafe.Escape(env.Input.File), s.Total, s.Passed, s.Warned, s.Failed)
	if s.Errors > 0 {
		fmt.Fprintf(&b, " (%d not verified: see their errors)", s.Errors)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, " (%d entries skipped: not channel packages, or another platform)", s.Skipped)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
