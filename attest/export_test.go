package attest

import "github.com/sigstore/sigstore-go/pkg/root"

// ParseSidecar lets the fuzz tests compare VerifySidecar with the parser.
var ParseSidecar = parseSidecar

// NewPlainVerifier is NewVerifier without the fast path (fastca.go): the
// differential tests compare the two.
func NewPlainVerifier(tm root.TrustedMaterial) (*Verifier, error) { return newVerifier(tm, false) }

// FastCounts reports how many of tm's Fulcio CAs and TSAs take the fast
// path, for the differential tests to check they exercise it.
func FastCounts(tm root.TrustedMaterial) (cas, tsas int) {
	m := newFastMaterial(tm)
	return len(m.cas), len(m.tsas)
}

// ErrMalformedSidecar is what VerifySidecar returns for a malformed
// sidecar.
var ErrMalformedSidecar = errMalformedSidecar
