package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/version"
	"github.com/condasigs/condasigs/policy"
)

// verify-env --format sarif writes a SARIF 2.1.0 log (OASIS), the format
// code-scanning services read: each failure or warning of a package is a
// result at the lock-file line that lists the package, so that a pull
// request that updates the lock file shows it on that line.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// projectURI is the tool's informationUri.
	projectURI = "https://github.com/condasigs/condasigs"
	// srcRoot is the uriBaseId of a lock file given by a relative path:
	// the directory the run was started in, usually the repository's root.
	srcRoot = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                `json:"tool"`
	Invocations        []sarifInvocation        `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult            `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	ShortDescription     sarifText         `json:"shortDescription"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperty struct {
	Tags []string `json:"tags"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId,omitempty"`
	RuleIndex  *int            `json:"ruleIndex,omitempty"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties sarifResultProp `json:"properties"`
}

// sarifResultProp names the package of a result, for programs that read
// the log: the message says it to people.
type sarifResultProp struct {
	Package string `json:"package"`
	Channel string `json:"channel,omitempty"` // redacted
	URL     string `json:"url,omitempty"`     // redacted
	Status  string `json:"status"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// ruleInfo describes one reason code as a SARIF rule: what it means, in
// one line, and the level it has under the default policy (require:
// error); each result carries the level its reason had in this run.
type ruleInfo struct {
	description string
	level       string
}

// sarifRules describes every code a report can carry: fetch.Kind,
// attest.Code and policy.Code constants, and the CLI's own. A test checks
// that none is missing.
var sarifRules = map[policy.Code]ruleInfo{
	// fetch
	"not-advertised": {"The package's record advertises no attestations (no attestations_sha256).", "error"},
	"invalid-digest": {"The record's attestations_sha256 is not a valid SHA-256 digest.", "error"},
	"invalid-url":    {"The package URL cannot be used.", "error"},
	"not-found":      {"The channel has no sidecar or record at the expected URL (HTTP 404 or 410, or a missing file).", "error"},
	"http-status":    {"The channel answered with an unsuccessful HTTP status, after retries.", "error"},
	"network":        {"The channel could not be reached (connection failure, timeout, refused redirect).", "error"},
	"too-large":      {"The sidecar is larger than the size cap.", "error"},
	"hash-mismatch":  {"The sidecar's bytes are not the ones the record advertises.", "error"},
	"malformed":      {"The sidecar or the repodata is not what it must be.", "error"},
	// attest
	"bundle-malformed":      {"An attestation is not a parseable Sigstore bundle.", "error"},
	"bundle-unsupported":    {"An attestation is a Sigstore bundle of an unsupported version.", "error"},
	"not-dsse":              {"An attestation is a message signature, not the DSSE envelope CEP 27 requires.", "error"},
	"tlog":                  {"An attestation has no verifiable transparency-log entry.", "error"},
	"timestamp":             {"An attestation has no verifiable observer timestamp.", "error"},
	"certificate":           {"An attestation's certificate does not chain to a trusted CA at signing time.", "error"},
	"sct":                   {"An attestation's certificate has no valid signed certificate timestamp.", "error"},
	"signature":             {"An attestation's signature does not verify.", "error"},
	"sigstore":              {"An attestation fails Sigstore verification.", "error"},
	"statement-malformed":   {"An attestation's payload is not an in-toto statement.", "error"},
	"statement-type":        {"An attestation's statement is not an in-toto Statement v1.", "error"},
	"predicate-type":        {"An attestation's predicate is not the CEP 27 publish predicate.", "error"},
	"subject-count":         {"An attestation does not name exactly one subject.", "error"},
	"subject-name":          {"An attestation is for another file than the package.", "error"},
	"subject-digest":        {"An attestation is for other bytes than the package's.", "error"},
	"predicate-malformed":   {"An attestation's predicate or its targetChannel breaks CEP 27.", "error"},
	"package-digest-absent": {"There is no package SHA-256 to compare the attestation with.", "error"},
	// policy
	policy.CodeUnsigned:              {"The package has no attestations.", "error"},
	policy.CodeNoTrustedBundle:       {"No attestation both verifies and comes from a trusted signer.", "error"},
	policy.CodeUntrustedIdentity:     {"An attestation verifies, but its signer is not a trusted identity.", "error"},
	policy.CodeTargetChannelMismatch: {"The attestation names another channel than the package's.", "error"},
	policy.CodeUnknownPredicate:      {"An attestation has a predicate type other than CEP 27's.", "warning"},
	policy.CodePinNew:                {"The first trusted signer seen for the package, to be pinned.", "note"},
	policy.CodeSignerChanged:         {"The package is signed by another identity than the one pinned for it.", "error"},
	policy.CodeRecordInconsistent:    {"The channel's record contradicts the package's file name or subdir.", "error"},
	policy.CodeRecordUnavailable:     {"The channel's repodata does not list the package, or cannot be read.", "error"},
	policy.CodeRetrievalFailure:      {"Attestations are advertised but could not be retrieved.", "error"},
	policy.CodeLockUnbound:           {"The lock entry gives the installer no sha256 to check, so nothing binds the attested package to what gets installed.", "error"},
	policy.CodeLockMismatch:          {"The lock file's hash is not the channel record's.", "error"},
	policy.CodeArtifactMismatch:      {"The package's bytes are not the ones the record names.", "error"},
	policy.CodePackageDownloaded:     {"The package was downloaded and its attestations checked against its bytes.", "note"},
	policy.CodeNotChecked:            {"Verification is disabled for the package's channel.", "note"},
	policy.CodeNotConfigured:         {"No policy entry covers the package's channel.", "warning"},
	policy.CodeNoPolicy:              {"The package's channel has no compiled policy.", "error"},
	policy.CodeTrustRootStale:        {"The TUF trusted root was last updated longer ago than the warning age.", "warning"},
	policy.CodeTrustRootAgeUnknown:   {"When the TUF trusted root was last updated is unknown.", "warning"},
	// this tool
	codeNotVerified: {"The run could not decide on the package (a timeout, a cancellation, an unusable trusted root).", "error"},
}

// writeSARIF writes verify-env's result as a SARIF 2.1.0 log: one run,
// whose driver lists every rule (reason code) and whose results are the
// failures and warnings of the packages, each at its lock-file line.
// Passing packages produce no result, except that, when signers were
// compared with a pin file, a package it has no pin for is a note
// (unpinned).
func writeSARIF(w io.Writer, env envReport) error {
	file := ""
	if env.Input != nil {
		file = env.Input.File
	}
	rules, index := sarifRuleList(env.Packages)
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "condasigs", Version: version.Version, InformationURI: projectURI, Rules: rules}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: env.Summary.Errors == 0}},
		Results:     []sarifResult{},
	}
	loc := lockFileLocation(file)
	if loc.URIBaseID != "" {
		if wd, err := os.Getwd(); err == nil {
			run.OriginalURIBaseIDs = map[string]sarifArtifact{srcRoot: {URI: dirURI(wd)}}
		}
	}
	for _, p := range env.Packages {
		fs := findings(p.Report)
		if f, ok := unpinned(p.Report); ok && env.pinned {
			fs = append(fs, f)
		}
		for _, f := range fs {
			res := sarifResult{
				Level:   f.level,
				Message: sarifText{Text: sarifMessage(f.message)},
				Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
					ArtifactLocation: loc,
				}}},
				Properties: sarifResultProp{Package: p.Filename, Channel: p.Channel, URL: p.URL, Status: string(p.Status)},
			}
			if p.Line > 0 {
				res.Locations[0].PhysicalLocation.Region = &sarifRegion{StartLine: p.Line}
			}
			if f.code != "" {
				i := index[f.code]
				res.RuleID, res.RuleIndex = string(f.code), &i
			}
			run.Results = append(run.Results, res)
		}
	}
	return writeSARIFJSON(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// writeSARIFJSON writes v as indented JSON. encoding/json escapes what a
// JSON string cannot hold (quotes, backslashes, controls), so no value
// can break the structure; HTML characters are left as they are (a SARIF
// log is no HTML page), and textsafe.EscapeJSON escapes the characters
// that would drive a terminal or reorder text when the log is printed.
// The values are unchanged.
func writeSARIFJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(textsafe.EscapeJSON(buf.Bytes()))
	return err
}

// sarifRuleList returns the rules of the log: every known code, sorted,
// then any code the reports carry that is not known (a code added to the
// library after this table), and the index of each.
func sarifRuleList(pkgs []envPackage) ([]sarifRule, map[policy.Code]int) {
	codes := make([]policy.Code, 0, len(sarifRules))
	for c := range sarifRules {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var unknown []policy.Code
	for _, p := range pkgs {
		for _, f := range findings(p.Report) {
			if _, ok := sarifRules[f.code]; !ok && f.code != "" && !slices.Contains(unknown, f.code) {
				unknown = append(unknown, f.code)
			}
		}
	}
	slices.Sort(unknown)
	codes = append(codes, unknown...)
	rules := make([]sarifRule, len(codes))
	index := make(map[policy.Code]int, len(codes))
	for i, c := range codes {
		info, ok := sarifRules[c]
		if !ok {
			info = ruleInfo{description: "A condasigs reason of code " + string(c) + ": see the result's message.", level: "error"}
		}
		rules[i] = sarifRule{ID: string(c), ShortDescription: sarifText{Text: info.description},
			DefaultConfiguration: sarifRuleConfig{Level: info.level}, Properties: sarifRuleProperty{Tags: []string{"security", "supply-chain"}}}
		index[c] = i
	}
	return rules, index
}

// finding is one failure or warning of a package, as the SARIF and
// markdown outputs list them.
type finding struct {
	code    policy.Code // "" when the report gives no reason
	level   string      // "error" or "warning"; "note" for unpinned
	message string      // the reason's message, after the package's name and channel, with the flag hint
	reason  string      // the reason's message with the flag hint, alone
}

// findings returns the failures and warnings of a report: its reasons of
// severity error or warning, at their own level. A report that fails or
// warns without such a reason (which the policy never makes) still gives
// one finding per reason at the level of its outcome, or one without a
// code when it has no reason at all: a failed package never goes unlisted.
func findings(r *condasigs.Report) []finding {
	if r == nil || r.Outcome == policy.Pass {
		return nil
	}
	outcomeLevel := "warning"
	if r.Outcome != policy.Warn {
		outcomeLevel = "error"
	}
	var out []finding
	for _, reason := range r.Reasons {
		switch reason.Severity {
		case policy.SeverityError:
			out = append(out, newFinding(r, reason, "error"))
		case policy.SeverityWarning:
			out = append(out, newFinding(r, reason, "warning"))
		}
	}
	if len(out) == 0 {
		for _, reason := range r.Reasons {
			out = append(out, newFinding(r, reason, outcomeLevel))
		}
	}
	if len(out) == 0 {
		msg := fmt.Sprintf("outcome %s, status %s, and no reason given: run condasigs verify on it with -v to see why", r.Outcome, r.Status)
		out = append(out, finding{level: outcomeLevel, message: packageWhere(r) + ": " + msg, reason: msg})
	}
	return out
}

func newFinding(r *condasigs.Report, reason policy.Reason, level string) finding {
	msg := reason.Message + flagHint(reason)
	if reason.Bundle != nil {
		msg = fmt.Sprintf("bundle %d: %s", *reason.Bundle, msg)
	}
	return finding{code: reason.Code, level: level, message: packageWhere(r) + ": " + msg, reason: msg}
}

// packageWhere names a report's package and its channel (redacted in the
// report).
func packageWhere(r *condasigs.Report) string {
	if r.Channel == "" {
		return r.Filename
	}
	return r.Filename + " from " + r.Channel
}

// lockFileLocation is the artifact location of the lock file at path, as
// given on the command line: a relative path is a relative URI reference
// under srcRoot (the working directory), an absolute path a file URI.
func lockFileLocation(path string) sarifArtifact {
	if filepath.IsAbs(path) || filepath.VolumeName(path) != "" {
		return sarifArtifact{URI: pathURL(path)}
	}
	slashed := filepath.ToSlash(path)
	// url.URL escapes what a URI path cannot hold (spaces, %, #, ?), and
	// prefixes "./" to a first segment with a colon, which would
	// otherwise read as a scheme.
	return sarifArtifact{URI: (&url.URL{Path: slashed}).String(), URIBaseID: srcRoot}
}

// dirURI is the file URI of directory dir, ending in a slash as a base
// URI must.
func dirURI(dir string) string {
	u := pathURL(dir)
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}
