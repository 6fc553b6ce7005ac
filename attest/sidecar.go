package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// errMalformedSidecar is what [Verifier.VerifySidecar] returns for anything
// that is not a JSON array of one or more JSON objects. CEP 50 makes it a
// retrieval failure, never "no attestations".
var errMalformedSidecar = errors.New("malformed sidecar")

// MaxBundles bounds the bundles of one sidecar, and so the cryptography
// one package can cost. A sidecar holds one attestation per signer and
// predicate type; a hundred is far beyond any real one.
const MaxBundles = 100

// parseSidecar splits a sidecar into its bundles, unparsed. It accepts only a
// JSON array of one or more objects; an empty array, null, a bare object or
// trailing data are malformed. The bundles themselves are parsed by
// [Verifier.VerifyBundle], one per verification, because a parsed
// sigstore-go bundle must not be shared between goroutines.
func parseSidecar(data []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("%w: not a JSON array", errMalformedSidecar)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%w: invalid JSON", errMalformedSidecar)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformedSidecar, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty array (an advertised sidecar holds at least one bundle)", errMalformedSidecar)
	}
	if len(raw) > MaxBundles {
		return nil, fmt.Errorf("%w: %d bundles, more than the limit of %d", errMalformedSidecar, len(raw), MaxBundles)
	}
	for i, b := range raw {
		if len(b) == 0 || b[0] != '{' {
			return nil, fmt.Errorf("%w: element %d is not a JSON object", errMalformedSidecar, i)
		}
	}
	return raw, nil
}
