package attest

import (
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// Code is a stable, machine-readable reason why a bundle did not verify.
// Codes are part of the API: they are never renamed.
type Code string

// Failure codes of a bundle. The empty Code means the bundle verified.
const (
	CodeBundleMalformed     Code = "bundle-malformed"      // not a parseable Sigstore bundle
	CodeBundleUnsupported   Code = "bundle-unsupported"    // a media type other than bundle v0.1, v0.2 or v0.3
	CodeNotDSSE             Code = "not-dsse"              // a message signature where CEP 27 needs a DSSE envelope
	CodeTransparencyLog     Code = "tlog"                  // no verifiable transparency-log entry (required)
	CodeTimestamp           Code = "timestamp"             // no verifiable observer timestamp
	CodeCertificate         Code = "certificate"           // the certificate does not chain to a trusted CA at signing time
	CodeSCT                 Code = "sct"                   // no valid signed certificate timestamp
	CodeSignature           Code = "signature"             // the signature does not verify
	CodeSigstore            Code = "sigstore"              // any other Sigstore verification failure
	CodeStatementMalformed  Code = "statement-malformed"   // the DSSE payload is not an in-toto statement
	CodeStatementType       Code = "statement-type"        // _type is not in-toto Statement v1
	CodePredicateType       Code = "predicate-type"        // not the CEP 27 publish predicate (see [Evidence.SignatureVerified])
	CodeSubjectCount        Code = "subject-count"         // not exactly one subject
	CodeSubjectName         Code = "subject-name"          // the subject names another file
	CodeSubjectDigest       Code = "subject-digest"        // the subject's sha256 is missing or differs from the package's
	CodePredicateMalformed  Code = "predicate-malformed"   // the predicate or its targetChannel breaks CEP 27
	CodePackageDigestAbsent Code = "package-digest-absent" // no package sha256 to compare with (none in the record, no bytes)
)

// ChannelMatch says how a bundle's targetChannel compares with the channel
// the package came from. Whether a mismatch is acceptable is policy.
type ChannelMatch string

// Values of ChannelMatch.
const (
	ChannelMatched    ChannelMatch = "match"
	ChannelMismatched ChannelMatch = "mismatch"
	ChannelAbsent     ChannelMatch = "absent" // the predicate is absent or null
	ChannelUnchecked  ChannelMatch = ""       // the bundle failed before the check, or no channel was given
)

// Evidence is the result of verifying one bundle.
type Evidence struct {
	// Index is the bundle's position in the sidecar. Order has no meaning.
	Index int `json:"index"`
	// MediaType is the bundle's declared media type.
	MediaType string `json:"mediaType,omitempty"`
	// Verified is true when every Sigstore and CEP 27 check passed. It says
	// nothing about whether the signer is trusted.
	Verified bool `json:"verified"`
	// SignatureVerified is true when the Sigstore checks passed, whatever
	// the statement says. A bundle with SignatureVerified and
	// Code == CodePredicateType is a valid attestation of another kind.
	SignatureVerified bool `json:"signatureVerified"`
	// Code and Message say why the bundle did not verify.
	Code    Code   `json:"code,omitempty"`
	Message string `json:"message,omitempty"`

	// The signer, from the verified certificate.
	SAN    string `json:"san,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	// Claims are the Fulcio certificate extensions: source repository, ref,
	// digest, workflow (build signer URI), runner environment and so on.
	Claims *certificate.Extensions `json:"claims,omitempty"`

	// The statement, once the signature verified.
	PredicateType string `json:"predicateType,omitempty"`
	SubjectName   string `json:"subjectName,omitempty"`
	SubjectSHA256 string `json:"subjectSHA256,omitempty"`
	TargetChannel string `json:"targetChannel,omitempty"`
	// ChannelMatch compares TargetChannel with the package's channel.
	ChannelMatch ChannelMatch `json:"channelMatch,omitempty"`

	// LogEntries are the verified transparency-log entries.
	LogEntries []LogEntry `json:"logEntries,omitempty"`
	// Timestamps are the verified observer timestamps.
	Timestamps []Timestamp `json:"timestamps,omitempty"`
}

// LogEntry is a verified transparency-log entry.
type LogEntry struct {
	LogURL string `json:"logURL,omitempty"`
	LogID  string `json:"logID"`
	Index  int64  `json:"index"`
	// IntegratedTime is zero for Rekor v2 entries, which carry none.
	IntegratedTime time.Time `json:"integratedTime,omitzero"`
}

// Timestamp is a verified observer timestamp: "Tlog" for a log's
// integrated time, "TimestampAuthority" for an RFC 3161 timestamp.
type Timestamp struct {
	Type string    `json:"type"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}
