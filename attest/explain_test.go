package attest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/fixtures"
)

// logIDs are the hex key IDs of tm's transparency logs.
func logIDs(tm root.TrustedMaterial) []string {
	var ids []string
	for id := range tm.RekorLogs() {
		ids = append(ids, id)
	}
	return ids
}

// A bundle of one Sigstore instance, verified against another's trusted
// root, names what that root lacks: the log by its ID, the CA and the TSA
// by name, and where the root came from. The code stays tlog.
func TestWrongTrustedRootNamesWhatIsMissing(t *testing.T) {
	signer, other := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	digest := sha256hex([]byte("x"))
	subject := attest.Subject{Filename: "a-1-0.conda", SHA256: digest}
	raw := signer.Bundle(t, "who@example.com", "https://issuer.example", condasigstest.Statement(subject.Filename, digest, ""))

	v, err := attest.NewVerifier(other.TrustedMaterial())
	require.NoError(t, err)
	v.TrustRootName = "file other.json"
	ev := v.VerifyBundle(0, raw, subject)
	assert.False(t, ev.Verified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code)
	ids := logIDs(signer.TrustedMaterial())
	require.Len(t, ids, 1)
	assert.Contains(t, ev.Message, "the bundle's transparency log "+ids[0])
	assert.Contains(t, ev.Message, `certificate's CA (issuer "CN=sigstore-intermediate,O=sigstore.dev", key ID `)
	// The virtual instances' TSA certificates share their issuer and
	// serial number: nothing but a signature tells them apart, so the TSA
	// is not named here (see TestMissingTrustEachPiece and the real
	// bundles).
	assert.Contains(t, ev.Message, "are not in the trusted root (file other.json): use the trusted root of the Sigstore instance that signed it")
	assert.Contains(t, ev.Message, "not enough verified log entries from transparency log: 0 < 1", "sigstore-go's words stay, for the record")

	// Against its own root nothing is missing, and it verifies.
	own, err := attest.NewVerifier(signer.TrustedMaterial())
	require.NoError(t, err)
	assert.Empty(t, own.MissingTrust(raw))
	assert.True(t, own.VerifyBundle(0, raw, subject).Verified)

	// Without a name, the message says "the trusted root".
	v2, err := attest.NewVerifier(other.TrustedMaterial())
	require.NoError(t, err)
	assert.Contains(t, v2.VerifyBundle(0, raw, subject).Message, "not in the trusted root: use")
}

// Each missing piece is named alone when it alone is missing: the log of a
// bundle logged by another instance, the CA, the TSA.
func TestMissingTrustEachPiece(t *testing.T) {
	ss, other := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	digest := sha256hex([]byte("x"))
	stmt := condasigstest.Statement("a-1-0.conda", digest, "")
	own, err := attest.NewVerifier(ss.TrustedMaterial())
	require.NoError(t, err)

	crossLogged := ss.BundleLoggedBy(t, other, "who@example.com", "https://issuer.example", stmt)
	missing := own.MissingTrust(crossLogged)
	require.Len(t, missing, 1, "%v", missing)
	assert.Equal(t, "transparency log "+logIDs(other.TrustedMaterial())[0], missing[0][:len("transparency log ")+64])
	ev := own.VerifyBundle(0, crossLogged, attest.Subject{Filename: "a-1-0.conda", SHA256: digest})
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code)
	assert.Contains(t, ev.Message, "the bundle's transparency log "+logIDs(other.TrustedMaterial())[0])
	assert.NotContains(t, ev.Message, "CA")

	raw := ss.Bundle(t, "who@example.com", "https://issuer.example", stmt)
	ca, err := attest.NewVerifier(otherCA{TrustedMaterial: ss.TrustedMaterial(), ca: other.TrustedMaterial()})
	require.NoError(t, err)
	missing = ca.MissingTrust(raw)
	require.Len(t, missing, 1, "%v", missing)
	assert.Contains(t, missing[0], `certificate's CA (issuer "`)
	ev = ca.VerifyBundle(0, raw, attest.Subject{Filename: "a-1-0.conda", SHA256: digest})
	assert.Equal(t, attest.CodeCertificate, ev.Code)
	assert.Contains(t, ev.Message, "the bundle's certificate's CA (issuer")

	tsa, err := attest.NewVerifier(noTSA{ss.TrustedMaterial()})
	require.NoError(t, err)
	missing = tsa.MissingTrust(raw)
	require.Len(t, missing, 1, "%v", missing)
	assert.Contains(t, missing[0], `timestamp's TSA (certificate issued by "`)
	ev = tsa.VerifyBundle(0, raw, attest.Subject{Filename: "a-1-0.conda", SHA256: digest})
	assert.True(t, ev.Verified, "the log's time stands in for an unknown TSA: nothing to explain")
	assert.Empty(t, ev.Message)
}

// The real bundles against each other's roots: the public-good bundle
// against staging names the public-good log and CA; the staging Rekor v2
// bundle against public-good names the staging log by ID and origin and
// the staging TSA.
func TestRealBundleAgainstWrongRootNamesIt(t *testing.T) {
	staging, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.StagingRootFile))
	require.NoError(t, err)
	staging.TrustRootName = "file staging.trusted_root.json"
	ev := staging.VerifyBundle(0, fixtures.Read(fixtures.BundleFile), realSubject)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code)
	assert.Contains(t, ev.Message, "the bundle's transparency log c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d")
	assert.Contains(t, ev.Message, `certificate's CA (issuer "CN=sigstore-intermediate,O=sigstore.dev", key ID dfd3e9cf56241196f9a8d8e92855a2c62e18643f)`)
	assert.Contains(t, ev.Message, "are not in the trusted root (file staging.trusted_root.json)")

	pg := publicGood(t)
	raw := fixtures.Read(fixtures.StagingBundleFile)
	missing := pg.MissingTrust(raw)
	assert.Equal(t, []string{
		`transparency log d3d3a70ca130eff8696626153e84d1cd16e0947934b3296c528bde8274549496 ("log2025-alpha3.rekor.sigstage.dev")`,
		`certificate's CA (issuer "CN=sigstore-intermediate,O=sigstore.dev", key ID 718630a6147c626ff9f7d6f4051a7f5fffeb6fac)`,
		`timestamp's TSA (subject "CN=sigstore-tsa,O=sigstore.dev", issuer "CN=sigstore-tsa-selfsigned,O=sigstore.dev")`,
	}, missing)
	ev = pg.VerifyBundle(0, raw, attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel})
	assert.False(t, ev.Verified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code, "codes are unchanged")
	assert.Contains(t, ev.Message, "the bundle's transparency log d3d3a70ca130eff8696626153e84d1cd16e0947934b3296c528bde8274549496")
	assert.Contains(t, ev.Message, "are not in the trusted root: use the trusted root of the Sigstore instance that signed it")

	// Against its own root, nothing is missing.
	assert.Empty(t, staging.MissingTrust(raw))
	assert.Empty(t, pg.MissingTrust(fixtures.Read(fixtures.BundleFile)))
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// otherCA is trusted material with another instance's Fulcio CA.
type otherCA struct {
	root.TrustedMaterial
	ca root.TrustedMaterial
}

func (f otherCA) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return f.ca.FulcioCertificateAuthorities()
}

// noTSA is trusted material without timestamping authorities.
type noTSA struct{ root.TrustedMaterial }

func (noTSA) TimestampingAuthorities() []root.TimestampingAuthority { return nil }

// With several instances trusted, the message names the set: a certificate
// of none of them, and a log missing from the instance that issued the
// certificate.
func TestSetNamesTheTrustedRoots(t *testing.T) {
	a, b := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	st := condasigstest.Statement(vFilename, vSHA, vChannel)
	subject := attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel}

	onlyA, err := attest.NewVerifier(instances(a.TrustedMaterial()))
	require.NoError(t, err)
	onlyA.TrustRootName = "file a.json, c.json"
	ev := onlyA.VerifyBundle(0, b.Bundle(t, vSAN, vIssuer, st), subject)
	assert.Equal(t, attest.CodeCertificate, ev.Code)
	assert.Contains(t, ev.Message, "a CA of none of the trusted roots (file a.json, c.json): verify the bundle against the trusted root of the Sigstore instance that issued it")

	ev = onlyA.VerifyBundle(0, a.BundleLoggedBy(t, b, vSAN, vIssuer, st), subject)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code)
	assert.Contains(t, ev.Message, "the bundle's transparency log "+logIDs(b.TrustedMaterial())[0])
	assert.Contains(t, ev.Message, "is not in the trusted root of the instance that issued the certificate (of file a.json, c.json)")
}
