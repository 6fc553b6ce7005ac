package attest

import "github.com/sigstore/sigstore-go/pkg/root"

// ParseSidecar lets the fuzz tests compare VerifySidecar with the parser.
var ParseSidecar = parseSidecar

// NewPlainVerifier is NewVerifier without the fast path (fastca.go): the
// differential tests compare the two.
func NewPlainVerifier(tm root.TrustedMaterial) (*Verifier, error) { return newVerifier(tm, false) }
