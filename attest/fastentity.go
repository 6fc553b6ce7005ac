package attest

import (
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// onceEntity is a parsed bundle, as sigstore-go's verify.SignedEntity, that
// parses its transparency-log entries and its certificate once per
// verification instead of at every call: sigstore-go asks for the
// certificate twice (log entries, then the chain) and attest asks for the
// entries again for the evidence, and the Rekor v1 entry body is costly to
// decode.
//
// Exact: bundle.Bundle computes both from its protobuf message alone, which
// nothing changes during a verification, so every call returns what the
// first did. The only state sigstore-go changes is on the parsed leaf
// certificate (it drops the SAN OID from UnhandledCriticalExtensions before
// path validation), after its last use in the log-entry check, which reads
// only the public key and validity; attest's checks after Verify read the
// verification result, not the certificate. An onceEntity serves one
// verification by one goroutine.
type onceEntity struct {
	*bundle.Bundle

	entriesDone bool
	entries     []*tlog.Entry
	entriesErr  error

	contentDone bool
	content     verify.VerificationContent
	contentErr  error
}

// TlogEntries is bundle.Bundle.TlogEntries, computed once.
func (e *onceEntity) TlogEntries() ([]*tlog.Entry, error) {
	if !e.entriesDone {
		e.entries, e.entriesErr = e.Bundle.TlogEntries()
		e.entriesDone = true
	}
	return e.entries, e.entriesErr
}

// VerificationContent is bundle.Bundle.VerificationContent, computed once.
func (e *onceEntity) VerificationContent() (verify.VerificationContent, error) {
	if !e.contentDone {
		e.content, e.contentErr = e.Bundle.VerificationContent()
		e.contentDone = true
	}
	return e.content, e.contentErr
}
