package attest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// floorSignatures are the signature checks of one bundle that really
// differ from bundle to bundle: what no cache can skip.
type floorSignatures struct {
	p384, p256, ed25519 int // besides the leaf certificate's, checked on the real certificates
}

// BenchmarkFastPath times, in interleaved rounds on each real bundle:
//   - bare: sigstore-go alone, parse and Verify, as BenchmarkBareSigstoreGo;
//   - plain: attest's VerifyBundle without the fast path (sigstore-go's own
//     authorities);
//   - fast: attest's VerifyBundle as NewVerifier builds it;
//   - floor: the signature verifications that differ per bundle: the leaf
//     certificate by the Fulcio intermediate (the real ones), and for the
//     others (log entry, checkpoint, SCT, DSSE, timestamp response) one
//     verification on the same curve with a throw-away key.
//
// Each iteration (a round) runs the four once, in an order that rotates,
// so that drift on a shared machine hits them alike. It reports each one's
// median time per bundle (name-ns/op) and the median over rounds of each
// one's time divided by bare's in the same round (fast/bare, plain/bare,
// floor/bare); repeat with -count and take medians again (see README,
// Performance).
func BenchmarkFastPath(b *testing.B) {
	cases := []struct {
		name, root, bundle, channel string
		floor                       floorSignatures
	}{
		// Rekor v1 entry: SET and checkpoint by the log's P-256 key; SCT by
		// the CT log's P-256 key; the DSSE signature by the leaf's P-256 key.
		{"public-good", fixtures.PublicGoodRootFile, fixtures.BundleFile, fixtures.Channel, floorSignatures{p256: 4}},
		// Rekor v2 entry: checkpoint by the log's Ed25519 key; the RFC 3161
		// response by the TSA's P-384 key; SCT and DSSE as above.
		{"staging", fixtures.StagingRootFile, fixtures.StagingBundleFile, fixtures.StagingChannel, floorSignatures{p384: 1, p256: 2, ed25519: 1}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			tr := fixtures.TrustedRoot(c.root)
			raw := fixtures.Read(c.bundle)
			subject := attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: c.channel}
			digest, _ := hex.DecodeString(fixtures.PackageSHA256)
			sv, err := verify.NewVerifier(tr, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1), verify.WithSignedCertificateTimestamps(1))
			if err != nil {
				b.Fatal(err)
			}
			policy := verify.NewPolicy(verify.WithArtifactDigest("sha256", digest), verify.WithoutIdentitiesUnsafe())
			fast, err := attest.NewVerifier(tr)
			if err != nil {
				b.Fatal(err)
			}
			plain, err := attest.NewPlainVerifier(tr)
			if err != nil {
				b.Fatal(err)
			}
			floor := newFloor(b, tr, raw, c.floor)

			arms := []struct {
				name string
				run  func()
			}{
				{"bare", func() {
					var bn bundle.Bundle
					if err := bn.UnmarshalJSON(raw); err != nil {
						b.Fatal(err)
					}
					if _, err := sv.Verify(&bn, policy); err != nil {
						b.Fatal(err)
					}
				}},
				{"plain", func() {
					if ev := plain.VerifyBundle(0, raw, subject); !ev.Verified {
						b.Fatal(ev.Message)
					}
				}},
				{"fast", func() {
					if ev := fast.VerifyBundle(0, raw, subject); !ev.Verified {
						b.Fatal(ev.Message)
					}
				}},
				{"floor", floor},
			}
			spent := make([][]float64, len(arms)) // ns, by arm and round
			n := 0
			for b.Loop() {
				for i := range arms {
					k := (i + n) % len(arms)
					t0 := time.Now()
					arms[k].run()
					spent[k] = append(spent[k], float64(time.Since(t0).Nanoseconds()))
				}
				n++
			}
			for i, a := range arms {
				b.ReportMetric(median(spent[i]), a.name+"-ns/op")
			}
			for i, a := range arms[1:] {
				ratios := make([]float64, n)
				for r := range n {
					ratios[r] = spent[i+1][r] / spent[0][r]
				}
				b.ReportMetric(median(ratios), a.name+"/bare")
			}
		})
	}
}

// median is the median of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// newFloor returns a function doing the per-bundle signature checks of f
// plus the leaf certificate's signature by the Fulcio intermediate that
// issued it, taken from the bundle and tr.
func newFloor(b *testing.B, tr *root.TrustedRoot, raw []byte, f floorSignatures) func() {
	b.Helper()
	var bn bundle.Bundle
	if err := bn.UnmarshalJSON(raw); err != nil {
		b.Fatal(err)
	}
	vc, err := bn.VerificationContent()
	if err != nil {
		b.Fatal(err)
	}
	leaf := vc.Certificate()
	var issuer *x509.Certificate
	for _, ca := range tr.FulcioCertificateAuthorities() {
		if fca, ok := ca.(*root.FulcioCertificateAuthority); ok {
			for _, c := range fca.Intermediates {
				if leaf.CheckSignatureFrom(c) == nil {
					issuer = c
				}
			}
		}
	}
	if issuer == nil {
		b.Fatal("no intermediate of the trusted root issued the leaf")
	}
	sign := func(curve elliptic.Curve, h crypto.Hash) (*ecdsa.PublicKey, []byte, []byte) {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		var d []byte
		if h == crypto.SHA384 {
			s := sha512.Sum384([]byte("floor"))
			d = s[:]
		} else {
			s := sha256.Sum256([]byte("floor"))
			d = s[:]
		}
		sig, err := ecdsa.SignASN1(rand.Reader, k, d)
		if err != nil {
			b.Fatal(err)
		}
		return &k.PublicKey, d, sig
	}
	k384, d384, s384 := sign(elliptic.P384(), crypto.SHA384)
	k256, d256, s256 := sign(elliptic.P256(), crypto.SHA256)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	msg := slices.Repeat([]byte("checkpoint "), 20)
	edSig := ed25519.Sign(edKey, msg)
	return func() {
		ok := leaf.CheckSignatureFrom(issuer) == nil
		for range f.p384 {
			ok = ok && ecdsa.VerifyASN1(k384, d384, s384)
		}
		for range f.p256 {
			ok = ok && ecdsa.VerifyASN1(k256, d256, s256)
		}
		for range f.ed25519 {
			ok = ok && ed25519.Verify(edPub, msg, edSig)
		}
		if !ok {
			b.Fatal("a floor signature does not verify")
		}
	}
}
