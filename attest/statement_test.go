package attest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	vFilename = "demo-1.0-0.conda"
	vChannel  = "https://conda.example.org/demo"
	vSAN      = "https://github.com/demo/demo/.github/workflows/release.yml@refs/tags/v1.0"
	vIssuer   = "https://token.actions.githubusercontent.com"
)

var vSHA = func() string { s := sha256.Sum256([]byte("demo package")); return hex.EncodeToString(s[:]) }()

// TestStatementRules signs statements that break one CEP 27 rule each with a
// virtual Sigstore: the signature verifies, the statement check must not.
func TestStatementRules(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	v, err := attest.NewVerifier(ss.TrustedMaterial())
	require.NoError(t, err)
	subject := attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel}
	pt := `"predicateType":"` + attest.PublishPredicateType + `"`
	one := `"subject":[{"name":"` + vFilename + `","digest":{"sha256":"` + vSHA + `"}}]`
	typ := `"_type":"` + intoto.StatementTypeUri + `"`
	cases := []struct {
		name      string
		statement string
		code      attest.Code
		match     attest.ChannelMatch
	}{
		{"valid", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + vChannel + `"}}`, "", attest.ChannelMatched},
		{"valid, predicate null", `{` + typ + `,` + one + `,` + pt + `,"predicate":null}`, "", attest.ChannelAbsent},
		{"valid, predicate absent", `{` + typ + `,` + one + `,` + pt + `}`, "", attest.ChannelAbsent},
		{"valid, uppercase digest hex", `{` + typ + `,"subject":[{"name":"` + vFilename + `","digest":{"sha256":"` + strings.ToUpper(vSHA) + `"}}],` + pt + `}`, "", attest.ChannelAbsent},
		{"valid, other channel", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"https://mirror.example.org/demo"}}`, "", attest.ChannelMismatched},
		{"valid, other host same path", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"https://evil.example.org/demo"}}`, "", attest.ChannelMismatched},
		{"statement v0.1", `{"_type":"https://in-toto.io/Statement/v0.1",` + one + `,` + pt + `}`, attest.CodeStatementType, ""},
		{"other predicate type", `{` + typ + `,` + one + `,"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, attest.CodePredicateType, ""},
		{"two subjects", `{` + typ + `,"subject":[{"name":"` + vFilename + `","digest":{"sha256":"` + vSHA + `"}},{"name":"other.conda","digest":{"sha256":"` + vSHA + `"}}],` + pt + `}`, attest.CodeSubjectCount, ""},
		{"no subject", `{` + typ + `,"subject":[],` + pt + `}`, attest.CodeSubjectCount, ""},
		{"subject with sha512 only", `{` + typ + `,"subject":[{"name":"` + vFilename + `","digest":{"sha512":"` + strings.Repeat("ab", 64) + `"}}],` + pt + `}`, attest.CodeSubjectDigest, ""},
		{"subject for another file", `{` + typ + `,"subject":[{"name":"demo-1.0-1.conda","digest":{"sha256":"` + vSHA + `"}}],` + pt + `}`, attest.CodeSubjectName, ""},
		{"subject name differs in case", `{` + typ + `,"subject":[{"name":"Demo-1.0-0.conda","digest":{"sha256":"` + vSHA + `"}}],` + pt + `}`, attest.CodeSubjectName, ""},
		{"subject for other bytes", `{` + typ + `,"subject":[{"name":"` + vFilename + `","digest":{"sha256":"` + strings.Repeat("0", 64) + `"}}],` + pt + `}`, attest.CodeSubjectDigest, ""},
		{"predicate without targetChannel", `{` + typ + `,` + one + `,` + pt + `,"predicate":{}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel not a string", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":42}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel with trailing slash", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + vChannel + `/"}}`, attest.CodePredicateMalformed, ""},
		// Not channel URLs: the canonical form would drop what they hold,
		// and so match the package's channel.
		{"targetChannel with user information", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + strings.Replace(vChannel, "://", "://user:secret@", 1) + `"}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel with a token", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + strings.Replace(vChannel, "://conda.example.org/", "://conda.example.org/t/tk-1/", 1) + `"}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel with an escaped token", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + strings.Replace(vChannel, "://conda.example.org/", "://conda.example.org/%74/tk-1/", 1) + `"}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel with a query", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + vChannel + `?x=1"}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel with an empty query", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + vChannel + `?"}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel with a fragment", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"` + vChannel + `#f"}}`, attest.CodePredicateMalformed, ""},
		{"targetChannel not a URL", `{` + typ + `,` + one + `,` + pt + `,"predicate":{"targetChannel":"conda-forge"}}`, attest.CodePredicateMalformed, ""},
		{"predicate not an object", `{` + typ + `,` + one + `,` + pt + `,"predicate":"x"}`, attest.CodeStatementMalformed, ""},
		{"payload not JSON", `not json`, attest.CodeStatementMalformed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := ss.Bundle(t, vSAN, vIssuer, []byte(c.statement))
			ev := v.VerifyBundle(0, b, subject)
			assert.Equal(t, c.code, ev.Code, ev.Message)
			assert.Equal(t, c.code == "", ev.Verified)
			if c.code == "" {
				assert.Equal(t, c.match, ev.ChannelMatch)
			}
			if c.code != attest.CodeStatementMalformed {
				assert.True(t, ev.SignatureVerified, "the signature itself is valid")
				assert.Equal(t, vSAN, ev.SAN)
			}
		})
	}
}

func TestUntrustedSigstore(t *testing.T) {
	trusted, other := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	v, err := attest.NewVerifier(trusted.TrustedMaterial())
	require.NoError(t, err)
	b := other.Bundle(t, vSAN, vIssuer, condasigstest.Statement(vFilename, vSHA, vChannel))
	ev := v.VerifyBundle(0, b, attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel})
	assert.False(t, ev.Verified)
	assert.False(t, ev.SignatureVerified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code)
	assert.Empty(t, ev.SAN, "no signer is reported for an unverified bundle")
}

func TestNewVerifierNil(t *testing.T) {
	_, err := attest.NewVerifier(nil)
	require.Error(t, err)
}

// TestVerifierConcurrent verifies one sidecar from many goroutines against
// one Verifier; run with -race.
func TestVerifierConcurrent(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	v, err := attest.NewVerifier(ss.TrustedMaterial())
	require.NoError(t, err)
	side := []byte("[" + string(ss.Bundle(t, vSAN, vIssuer, condasigstest.Statement(vFilename, vSHA, vChannel))) + "]")
	s := attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel}
	errs := make(chan string, 16)
	for range 16 {
		go func() {
			evs, err := v.VerifySidecar(context.Background(), side, s)
			switch {
			case err != nil:
				errs <- err.Error()
			case !evs[0].Verified:
				errs <- evs[0].Message
			default:
				errs <- ""
			}
		}()
	}
	for range 16 {
		assert.Empty(t, <-errs)
	}
}
