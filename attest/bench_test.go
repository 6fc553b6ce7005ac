package attest_test

import (
	"encoding/hex"
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// BenchmarkBareSigstoreGo is the baseline: sigstore-go alone, parsing and
// verifying the real public-good bundle with the same thresholds and the
// artifact digest, as a caller of sigstore-go would.
func BenchmarkBareSigstoreGo(b *testing.B) {
	tr := fixtures.TrustedRoot(fixtures.PublicGoodRootFile)
	sv, err := verify.NewVerifier(tr, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1), verify.WithSignedCertificateTimestamps(1))
	if err != nil {
		b.Fatal(err)
	}
	raw := fixtures.Read(fixtures.BundleFile)
	digest, _ := hex.DecodeString(fixtures.PackageSHA256)
	policy := verify.NewPolicy(verify.WithArtifactDigest("sha256", digest), verify.WithoutIdentitiesUnsafe())
	b.ReportAllocs()
	for b.Loop() {
		var bn bundle.Bundle
		if err := bn.UnmarshalJSON(raw); err != nil {
			b.Fatal(err)
		}
		if _, err := sv.Verify(&bn, policy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBundle is the library's per-bundle cost on the same bundle:
// sigstore-go plus the CEP 27 checks and the evidence.
func BenchmarkVerifyBundle(b *testing.B) {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	if err != nil {
		b.Fatal(err)
	}
	raw := fixtures.Read(fixtures.BundleFile)
	b.ReportAllocs()
	for b.Loop() {
		if ev := v.VerifyBundle(0, raw, realSubject); !ev.Verified {
			b.Fatal(ev.Message)
		}
	}
}
