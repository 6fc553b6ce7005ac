// Package condasigstest builds fake conda channels with Sigstore
// attestations for tests, in the spirit of net/http/httptest: a throw-away
// Sigstore instance, packages signed by the identities a test chooses,
// repodata.json with attestations_sha256, sidecars at their
// content-addressed URLs, a loopback HTTP server, and the trusted material
// to verify against. No network is used.
//
//	ss := condasigstest.NewSigstore(t)
//	ch := condasigstest.NewChannel(t, "linux-64")
//	ch.Serve(t)
//	ch.Add(t, condasigstest.Package{Filename: "demo-1.0-0.conda", Signer: ss})
//	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t)) // a trust root as any integration builds one
//	if err != nil {
//		t.Fatal(err)
//	}
//	v, _ := condasigs.New(condasigs.Options{Trust: trust, Policy: policy.Policy{
//		Identities: []policy.Identity{{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer}}}})
//	report, _ := v.Verify(ctx, ch.Package("demo-1.0-0.conda")) // passes
//
// Serve may come before or after Add: a package signed for the channel's
// own URL before Serve is signed again for the served URL. An attestation
// that names a file:// targetChannel on a channel served over HTTP fails
// the test at once, naming both URLs, rather than the verification later.
//
// A [Package]'s knobs make each failure a test wants: Unsigned (no
// attestations), TamperSidecar (the served bytes are not the advertised
// ones), RecordSHA256 (repodata names other bytes), NoSidecarFile (a 404),
// Identity and Issuer (who signs; by default the identity
// https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0
// and [DefaultIssuer]), ReplayOf (another package's bundle), TargetChannel
// and NoPredicate (the statement's channel); Bundles and Sidecar take bytes
// made by hand, with [Statement], [Sigstore.Bundle], [Sigstore.BundleAt] and
// [Sigstore.BundleLoggedBy] (a sidecar is the JSON array of its bundles).
// [Channel.Requests] counts what the server was asked for, e.g. to check
// that a warm cache makes no request.
//
// A [Sigstore] (Fulcio CA, Rekor v1 log, RFC 3161 timestamping authority)
// wraps sigstore-go's test-only VirtualSigstore without exposing it. Its
// trusted material is [Sigstore.TrustedRootJSON], a trusted_root.json that
// trustroot.FromJSON reads as a trustroot.Source for condasigs.Options.Trust
// (the same document every time, so with a stable digest), or
// [Sigstore.TrustedMaterial], a root.TrustedMaterial for attest.NewVerifier
// and trustroot.NewStatic.
//
// Validity windows (all from sigstore-go's pkg/testing/ca): a bundle's leaf
// certificate is valid for 10 minutes from signing, and its log entry's
// integrated time is set 5 minutes after signing (by [Sigstore.Bundle]).
// The virtual Rekor log is trusted from one hour before to one hour after
// the moment of verification, so a bundle verifies for about 65 minutes
// after it was made; later, its log entry is skipped and it fails with
// attest.CodeTransparencyLog. The virtual Fulcio CA is valid until an hour
// after [NewSigstore], so sign within 55 minutes of it; the virtual TSA's
// certificate expires 5 minutes after NewSigstore, and a bundle made later
// still verifies, on the log's integrated time alone, without its RFC 3161
// timestamp.
package condasigstest
