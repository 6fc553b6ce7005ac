package main

import (
	"slices"
	"strings"
)

// The output formats of the verifying commands. verify-env adds sarif and
// markdown, which place each failure and warning at its lock-file line:
// verify and pin take package URLs, which have no line to point at.
var (
	verifyFormats = []string{"text", "json"}
	envFormats    = []string{"text", "json", "sarif", "markdown"}
)

// envFormatUsage is verify-env's --format help.
const envFormatUsage = "output format: text, json, sarif (a SARIF 2.1.0 log for code scanning: each failure or warning a result at its lock-file line) or markdown (a summary table for a CI step summary, e.g. >> $GITHUB_STEP_SUMMARY)"

// checkFormat accepts a --format that the command named cmdName writes.
func checkFormat(cmdName, format string) error {
	formats := verifyFormats
	if cmdName == "verify-env" {
		formats = envFormats
	}
	if slices.Contains(formats, format) {
		return nil
	}
	want := strings.Join(formats[:len(formats)-1], ", ") + " or " + formats[len(formats)-1]
	if slices.Contains(envFormats, format) {
		return usageError("--format %s is verify-env's (it places each result at its lock-file line); %s writes %s", format, cmdName, want)
	}
	if lower := strings.ToLower(format); lower != format && slices.Contains(formats, lower) {
		return usageError("--format must be %s, not %q: write it in lower case, %s", want, format, lower)
	}
	return usageError("--format must be %s, not %q", want, format)
}
