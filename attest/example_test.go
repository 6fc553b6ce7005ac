package attest_test

import (
	"context"
	"fmt"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
)

// Verify the bundles of a sidecar against a trusted root and inspect the
// evidence of each.
func ExampleVerifier_VerifySidecar() {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	evidence, err := v.VerifySidecar(context.Background(), fixtures.Sidecar(fixtures.BundleFile), attest.Subject{
		Filename: "signed-package-2.1.0-hb0f4dca_0.conda",
		SHA256:   "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
		Channel:  "https://prefix.dev/sigstore-example",
	})
	if err != nil {
		fmt.Println(err) // a malformed sidecar
		return
	}
	for _, ev := range evidence {
		fmt.Println(ev.Verified, ev.ChannelMatch, ev.Issuer)
	}

	// The same bundle presented for another file.
	ev := v.VerifyBundle(0, fixtures.Read(fixtures.BundleFile), attest.Subject{
		Filename: "other-1.0-0.conda",
		SHA256:   "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
	})
	fmt.Println(ev.Verified, ev.Code)
	// Output:
	// true match https://token.actions.githubusercontent.com
	// false subject-name
}

// A sidecar must be a JSON array of one or more objects; anything else is
// malformed, which CEP 50 makes a retrieval failure, never "no
// attestations". Nothing in it is verified then.
func ExampleVerifier_VerifySidecar_malformed() {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	subject := attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.Channel}
	ctx := context.Background()
	for _, sidecar := range []string{`[]`, `null`, `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}`} {
		evidence, err := v.VerifySidecar(ctx, []byte(sidecar), subject)
		fmt.Println(sidecar, "malformed:", err != nil && ctx.Err() == nil, len(evidence))
	}
	// Output:
	// [] malformed: true 0
	// null malformed: true 0
	// {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"} malformed: true 0
}

// NewVerifier derives the required Sigstore checks from the trusted
// material: the public-good root lists CT logs, so an SCT is required too.
func ExampleNewVerifier() {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	th := v.Thresholds()
	fmt.Println("transparency-log entries:", th.TransparencyLog)
	fmt.Println("observer timestamps:", th.ObserverTimestamps)
	fmt.Println("SCTs:", th.SignedCertificateTimestamps)
	// Output:
	// transparency-log entries: 1
	// observer timestamps: 1
	// SCTs: 1
}

// Verify one bundle: a real attestation of the package, signed with a
// GitHub OAuth identity and logged in the staging instance's Rekor v2 log,
// which records no integrated time (an RFC 3161 timestamp is the observer
// timestamp instead).
func ExampleVerifier_VerifyBundle() {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.StagingRootFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := v.VerifyBundle(0, fixtures.Read(fixtures.StagingBundleFile), attest.Subject{
		Filename: "signed-package-2.1.0-hb0f4dca_0.conda",
		SHA256:   "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
		Channel:  "https://example.com/my-channel",
	})
	if !ev.Verified {
		fmt.Println(ev.Code, ev.Message) // a stable code, and what failed
		return
	}
	fmt.Println(ev.SAN, ev.Issuer)
	fmt.Println(ev.PredicateType)
	fmt.Println(ev.SubjectName, ev.TargetChannel, ev.ChannelMatch)
	for _, e := range ev.LogEntries {
		fmt.Println("log entry", e.Index, "integrated time known:", !e.IntegratedTime.IsZero())
	}
	for _, ts := range ev.Timestamps {
		fmt.Println("timestamp", ts.Type)
	}
	// Output:
	// jku@goto.fi https://github.com/login/oauth
	// https://schemas.conda.org/attestations-publish-1.schema.json
	// signed-package-2.1.0-hb0f4dca_0.conda https://example.com/my-channel match
	// log entry 4197416 integrated time known: false
	// timestamp TimestampAuthority
}
