package policy

import "fmt"

// Mode is what a rule does when it is broken: fail the package, warn, or
// let it pass.
type Mode string

// The modes.
const (
	ModeError  Mode = "error"
	ModeWarn   Mode = "warn"
	ModeIgnore Mode = "ignore"
)

// parseMode parses "error", "warn" or "ignore".
func parseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeError, ModeWarn, ModeIgnore:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q: use error, warn or ignore", s)
}

// Outcome is the verdict on a package.
type Outcome string

// The outcomes. A package manager installs on pass and warn (showing the
// warnings) and refuses on fail.
const (
	Pass Outcome = "pass"
	Warn Outcome = "warn"
	Fail Outcome = "fail"
)

// Status says what was found, independent of the verdict.
type Status string

// The statuses.
const (
	StatusVerified            Status = "verified"             // a bundle verified and matched a trusted identity
	StatusUnsigned            Status = "unsigned"             // the record advertises no attestations
	StatusRetrievalFailure    Status = "retrieval-failure"    // advertised, but not obtained intact
	StatusVerificationFailure Status = "verification-failure" // obtained, but no bundle verified from a trusted identity
	StatusDisabled            Status = "disabled"             // not checked: the channel's policy is disabled, or no policy covers it
)

// Severity grades a Reason.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)
