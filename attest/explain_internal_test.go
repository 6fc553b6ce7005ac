package attest

import (
	"testing"

	"github.com/condasigs/condasigs/internal/fixtures"
)

// MissingTrust lets the tests see what a bundle relies on that the trusted
// material lacks, whether or not it fails.
func (v *Verifier) MissingTrust(raw []byte) []string {
	b, _, err := parseBundle(raw)
	if err != nil {
		return nil
	}
	return v.missingTrust(b)
}

// FuzzTimestampSigner: no bytes given as an RFC 3161 token, nor the signer
// read from them, make the parser, the name or the authority check panic.
func FuzzTimestampSigner(f *testing.F) {
	b, _, err := parseBundle(fixtures.Read(fixtures.StagingBundleFile))
	if err != nil {
		f.Fatal(err)
	}
	tss := b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()
	if len(tss) == 0 {
		f.Fatal("the staging bundle has no RFC 3161 timestamp")
	}
	token := tss[0].GetSignedTimestamp()
	if s, ok := timestampSigner(token); !ok || s.cert == nil {
		f.Fatalf("the real token does not parse: %v %+v", ok, s)
	}
	f.Add(token)
	f.Add([]byte{0x30, 0x00})
	tsas := fixtures.TrustedRoot(fixtures.PublicGoodRootFile).TimestampingAuthorities()
	f.Fuzz(func(t *testing.T, der []byte) {
		s, ok := timestampSigner(der)
		if !ok {
			return
		}
		_ = s.String()
		for _, tsa := range tsas {
			_ = s.signedBy(tsa)
		}
	})
}
