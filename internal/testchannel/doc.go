// Package testchannel builds fake conda channels signed by sigstore-go's
// VirtualSigstore, for tests only.
//
// A [Sigstore] is a throw-away Sigstore deployment (Fulcio CA, Rekor v1 log,
// RFC 3161 timestamping authority) that is also the trusted material to
// verify its own bundles with. [Statement] writes a CEP 27 publish
// attestation, [Sigstore.Bundle] signs it into a Sigstore bundle v0.3 JSON
// document and [Sidecar] joins bundles into a CEP 50 sidecar. A [Channel] is
// a conda channel on disk with one subdir: [Channel.Add] writes a package,
// its content-addressed sidecar and its repodata record, and [Channel.Serve]
// serves the channel over loopback HTTP and counts the requests.
//
// Validity windows (all from sigstore-go's pkg/testing/ca): a bundle's leaf
// certificate is valid for 10 minutes from signing, and its log entry's
// integrated time is set 5 minutes after signing ([IntegratedTimeOffset]).
// The virtual Rekor log is trusted from one hour before to one hour after
// the moment of verification, so a bundle verifies for about 65 minutes
// after it was made; later, its log entry is skipped and it fails with
// attest.CodeTransparencyLog. The virtual Fulcio CA is valid until an hour
// after [NewSigstore], so sign within 55 minutes of it; the virtual TSA's
// certificate expires 5 minutes after NewSigstore, and a bundle made later
// still verifies, on the log's integrated time alone, without its RFC 3161
// timestamp.
//
// The package imports fetch (for [fetch.Record]) but not attest, so attest's
// in-package tests may use it; fetch's tests must be in package fetch_test.
package testchannel
