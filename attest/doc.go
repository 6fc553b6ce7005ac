// Package attest parses CEP 50 sidecars and verifies the Sigstore bundles in
// them, then checks the CEP 27 publish attestation each one carries.
//
// A sidecar is a JSON array of one or more Sigstore bundles; anything else is
// malformed (an error of [Verifier.VerifySidecar]). A [Verifier] checks each bundle on its
// own with sigstore-go (signature, Fulcio certificate chain, SCTs when the
// trusted material has CT logs, transparency-log inclusion, observer
// timestamps) and then the in-toto statement: its type, the predicate type,
// exactly one subject, the subject's name against the package filename (which
// sigstore-go does not check), its sha256 against the package digest, and the
// predicate's targetChannel against the channel the package came from.
//
// The result of each bundle is [Evidence]: whether it verified, a stable
// failure [Code] and message when it did not, and what it proves when it did
// (signer, issuer, certificate claims, transparency-log entries, verified
// timestamps). Evidence says nothing about whether the signer is trusted:
// that is the policy package's decision.
//
// Bundles must be Sigstore bundles of media type v0.1, v0.2 or v0.3 that
// hold a DSSE envelope and a Fulcio certificate; transparency-log entries
// of Rekor v1 and Rekor v2 are verified.
package attest
