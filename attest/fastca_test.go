package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
)

// Unit-level differential tests of fastCA and fastTSA against sigstore-go's
// own authorities, on certificate hierarchies built to hit each check of
// the design note in fastca.go. The bundle-level ones are in fast_test.go.

// epoch is now: the RFC 3161 responses carry the signing time of their
// creation, which must fall within the certificates. Times are relative
// to it.
var epoch = time.Now().UTC().Truncate(time.Second)

type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

// issue creates a certificate from tmpl, signed by parent (self-signed when
// parent is nil).
func issue(t *testing.T, tmpl *x509.Certificate, parent *testCert) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return issueKey(t, tmpl, parent, key)
}

// issueKey is issue for the key pair key.
func issueKey(t *testing.T, tmpl *x509.Certificate, parent *testCert, key *ecdsa.PrivateKey) *testCert {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	p, pk := tmpl, key
	if parent != nil {
		p, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, &key.PublicKey, pk)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCert{c, key}
}

func caTmpl(name string, from, to time.Duration) *x509.Certificate {
	return &x509.Certificate{
		Subject:   pkix.Name{CommonName: name, Organization: []string{"condasigs test"}},
		NotBefore: epoch.Add(from), NotAfter: epoch.Add(to),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: -1,
	}
}

func leafTmpl(email string, from, to time.Duration) *x509.Certificate {
	return &x509.Certificate{
		EmailAddresses: []string{email},
		NotBefore:      epoch.Add(from), NotAfter: epoch.Add(to),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
}

// requireExplicitPolicy0 is a policyConstraints extension with
// requireExplicitPolicy 0.
var requireExplicitPolicy0 = pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}

func mustOID(t *testing.T, ints ...uint64) x509.OID {
	t.Helper()
	oid, err := x509.OIDFromInts(ints)
	require.NoError(t, err)
	return oid
}

// sameCAResult fails t unless fast and plain verify leaf at at alike: both
// fail, or both return the same chains.
func sameCAResult(t *testing.T, what string, fast root.CertificateAuthority, plain *root.FulcioCertificateAuthority, leaf *x509.Certificate, at time.Time) bool {
	t.Helper()
	pc, perr := plain.Verify(leaf, at)
	fc, ferr := fast.Verify(leaf, at)
	if (perr == nil) != (ferr == nil) {
		t.Fatalf("%s: plain error %v, fast error %v", what, perr, ferr)
	}
	if perr != nil {
		require.Equal(t, perr.Error(), ferr.Error(), what)
		return false
	}
	raw := func(chains [][]*x509.Certificate) (out [][][]byte) {
		for _, c := range chains {
			var r [][]byte
			for _, x := range c {
				r = append(r, x.Raw)
			}
			out = append(out, r)
		}
		return out
	}
	require.Equal(t, raw(pc), raw(fc), what)
	return true
}

// TestFastCAMatchesPlain: for every hierarchy shape and every leaf, at
// observer times inside and outside each window, fastCA gives the verdict
// and chains of root.FulcioCertificateAuthority, and takes the fast path
// where the design note says it may.
func TestFastCAMatchesPlain(t *testing.T) {
	root0 := issue(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil)
	other := issue(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil) // same name, other key
	inter := func(tmpl *x509.Certificate, parent *testCert) *testCert { return issue(t, tmpl, parent) }

	type shape struct {
		name     string
		root     *testCert
		inters   []*testCert
		eligible bool
	}
	good := inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), root0)
	longer := inter(caTmpl("intermediate", -5*time.Hour, 20*time.Hour), root0) // outlives the root
	mid := inter(caTmpl("middle", -5*time.Hour, 5*time.Hour), root0)
	shortRoot := issue(t, caTmpl("root", -10*time.Hour, 30*time.Minute), nil)
	shortMid := inter(caTmpl("middle", -5*time.Hour, 30*time.Minute), root0)
	under := inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), mid)
	notCA := caTmpl("intermediate", -5*time.Hour, 5*time.Hour)
	notCA.IsCA = false
	serverOnly := caTmpl("intermediate", -5*time.Hour, 5*time.Hour)
	serverOnly.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	constrained := caTmpl("intermediate", -5*time.Hour, 5*time.Hour)
	constrained.PermittedEmailAddresses = []string{"good.example"}
	rootConstrained := caTmpl("root", -10*time.Hour, 10*time.Hour)
	rootConstrained.PermittedEmailAddresses = []string{"good.example"}
	rc := issue(t, rootConstrained, nil)
	rootPathLen0 := caTmpl("root", -10*time.Hour, 10*time.Hour)
	rootPathLen0.MaxPathLen, rootPathLen0.MaxPathLenZero = 0, true
	rp := issue(t, rootPathLen0, nil)
	midConstrained := caTmpl("middle", -5*time.Hour, 5*time.Hour)
	midConstrained.PermittedEmailAddresses = []string{"good.example"}
	midC := inter(midConstrained, root0)
	rpMid := inter(caTmpl("middle", -5*time.Hour, 5*time.Hour), rp)
	interPathLen0 := caTmpl("intermediate", -5*time.Hour, 5*time.Hour)
	interPathLen0.MaxPathLen, interPathLen0.MaxPathLenZero = 0, true
	policyInter := caTmpl("intermediate", -5*time.Hour, 5*time.Hour)
	policyInter.ExtraExtensions = []pkix.Extension{requireExplicitPolicy0}

	shapes := []shape{
		{"one intermediate", root0, []*testCert{good}, true},
		{"intermediate outliving the root", root0, []*testCert{longer}, true},
		{"two intermediates", root0, []*testCert{under, mid}, true},
		{"root expiring before the leaf", shortRoot, []*testCert{inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), shortRoot)}, true},
		{"middle intermediate expiring before the leaf", root0, []*testCert{inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), shortMid), shortMid}, true},
		{"intermediate path length 0", root0, []*testCert{inter(interPathLen0, root0)}, true},
		{"intermediate with name constraints", root0, []*testCert{inter(constrained, root0)}, true},
		{"intermediate not issued by the root", other, []*testCert{good}, false},
		{"intermediate not a CA", root0, []*testCert{inter(notCA, root0)}, false},
		{"intermediate for server auth only", root0, []*testCert{inter(serverOnly, root0)}, false},
		{"middle intermediate with name constraints", root0, []*testCert{inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), midC), midC}, false},
		{"root with name constraints", rc, []*testCert{inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), rc)}, false},
		{"root with path length 0 over two intermediates", rp, []*testCert{inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), rpMid), rpMid}, false},
		{"intermediate requiring an explicit policy", root0, []*testCert{inter(policyInter, root0)}, false},
		{"two intermediates of one name", root0, []*testCert{good, inter(caTmpl("intermediate", -5*time.Hour, 5*time.Hour), root0)}, false},
		{"no intermediate", root0, nil, false},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			plain := &root.FulcioCertificateAuthority{Root: s.root.cert, URI: "https://fulcio.test"}
			for _, c := range s.inters {
				plain.Intermediates = append(plain.Intermediates, c.cert)
			}
			f := newFastCA(plain)
			require.Equal(t, s.eligible, f != nil, "eligibility")
			if f == nil {
				return
			}
			issuer := s.inters[0]
			forger := issue(t, caTmpl("intermediate", -5*time.Hour, 5*time.Hour), nil)
			serverLeaf := leafTmpl("a@good.example", -time.Hour, time.Hour)
			serverLeaf.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			policyLeaf := leafTmpl("a@good.example", -time.Hour, time.Hour)
			policyLeaf.ExtraExtensions = []pkix.Extension{requireExplicitPolicy0}
			// With a policy of its own, the leaf alone satisfies an
			// explicit policy; the chain through the intermediates, which
			// list none, does not.
			policyLeaf.Policies = []x509.OID{mustOID(t, 1, 3, 6, 1, 4, 1, 57264, 9)}
			rootName := leafTmpl("a@good.example", -time.Hour, time.Hour)
			rootName.Subject = s.root.cert.Subject
			leaves := []struct {
				name string
				leaf *x509.Certificate
				// verifies at epoch; fast: on the fast path
				verifies, fast bool
			}{
				{"good", issue(t, leafTmpl("a@good.example", -time.Hour, time.Hour), issuer).cert, true, true},
				{"name outside the constraints", issue(t, leafTmpl("a@evil.example", -time.Hour, time.Hour), issuer).cert,
					s.name != "intermediate with name constraints", s.name != "intermediate with name constraints"},
				{"forged issuer", issue(t, leafTmpl("a@good.example", -time.Hour, time.Hour), forger).cert, false, false},
				{"issued by the root", issue(t, leafTmpl("a@good.example", -time.Hour, time.Hour), s.root).cert, true, false},
				{"for server auth", issue(t, serverLeaf, issuer).cert, false, false},
				{"requiring an explicit policy", issue(t, policyLeaf, issuer).cert, false, false},
				{"subject of the root", issue(t, rootName, issuer).cert, true, false},
				{"the issuer itself", issuer.cert, true, false},
			}
			times := []time.Duration{0, 45 * time.Minute, -2 * time.Hour, 2 * time.Hour, -7 * time.Hour, 7 * time.Hour, 12 * time.Hour, 30 * time.Hour}
			for _, l := range leaves {
				for _, d := range times {
					ok := sameCAResult(t, l.name+" at "+d.String(), f, plain, l.leaf, epoch.Add(d))
					if d == 0 {
						require.Equal(t, l.verifies, ok, "%s verifies", l.name)
						require.Equal(t, l.fast, f.fast(l.leaf, epoch) != nil, "%s on the fast path", l.name)
					}
				}
			}
			// The CA's own validity period.
			for _, p := range []struct {
				what       string
				start, end time.Time
			}{
				{"after the CA's period", time.Time{}, epoch.Add(-time.Minute)},
				{"before the CA's period", epoch.Add(time.Minute), time.Time{}},
			} {
				windowed := *plain
				windowed.ValidityPeriodStart, windowed.ValidityPeriodEnd = p.start, p.end
				fw := newFastCA(&windowed)
				require.NotNil(t, fw)
				require.False(t, sameCAResult(t, p.what, fw, &windowed, leaves[0].leaf, epoch))
			}
			// A CA changed after the snapshot is verified as it is now.
			saved := plain.Intermediates
			plain.Intermediates = []*x509.Certificate{forger.cert}
			require.False(t, sameCAResult(t, "changed CA", f, plain, leaves[0].leaf, epoch))
			require.Nil(t, f.fast(leaves[0].leaf, epoch))
			plain.Intermediates = saved
		})
	}
}

// tsr makes an RFC 3161 response over sig, signed by signer with cert,
// embedding certs (none at all when embed is false).
func tsr(t *testing.T, sig []byte, signer *testCert, at time.Time, embed bool, certs ...*x509.Certificate) []byte {
	t.Helper()
	h := sha256.Sum256(sig)
	ts := timestamp.Timestamp{
		HashAlgorithm: crypto.SHA256, HashedMessage: h[:], Time: at,
		Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, AddTSACertificate: embed, Certificates: certs,
	}
	out, err := ts.CreateResponseWithOpts(signer.cert, signer.key, crypto.SHA256)
	require.NoError(t, err)
	return out
}

func tsaLeafTmpl(from, to time.Duration) *x509.Certificate {
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	return &x509.Certificate{
		Subject:   pkix.Name{CommonName: "tsa leaf"},
		NotBefore: epoch.Add(from), NotAfter: epoch.Add(to),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}
}

// TestFastTSAMatchesPlain: fastTSA gives the result of
// root.SigstoreTimestampingAuthority for responses that are valid, signed by
// another key, for another signature, outside a certificate's or the TSA's
// validity, with foreign or static certificates embedded, or none.
func TestFastTSAMatchesPlain(t *testing.T) {
	r := issue(t, caTmpl("tsa root", -10*time.Hour, 10*time.Hour), nil)
	i := issue(t, caTmpl("tsa intermediate", -5*time.Hour, 5*time.Hour), r)
	leaf := issue(t, tsaLeafTmpl(-time.Hour, time.Hour), i)
	twin := issue(t, tsaLeafTmpl(-time.Hour, time.Hour), i) // same name, other key and serial
	stranger := issue(t, caTmpl("stranger", -5*time.Hour, 5*time.Hour), nil)
	// The root's name and key, certified by a stranger: a valid link, but
	// not one of the static chain.
	crossTmpl := caTmpl("tsa root", -5*time.Hour, 5*time.Hour)
	cross := issueKey(t, crossTmpl, stranger, r.key)
	plain := &root.SigstoreTimestampingAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}, Leaf: leaf.cert, URI: "https://tsa.test"}
	f := newFastTSA(plain)
	require.NotNil(t, f)
	sig := []byte("the DSSE signature")

	cases := []struct {
		name string
		tsr  []byte
		sig  []byte
		fast bool
	}{
		{"valid, leaf embedded", tsr(t, sig, leaf, epoch, true), sig, true},
		{"valid, nothing embedded", tsr(t, sig, leaf, epoch, false), sig, true},
		{"valid, chain embedded", tsr(t, sig, leaf, epoch, true, i.cert, r.cert), sig, true},
		{"valid, a foreign certificate embedded", tsr(t, sig, leaf, epoch, true, i.cert, r.cert, cross.cert), sig, false},
		{"another signature", tsr(t, []byte("other"), leaf, epoch, true), sig, false},
		{"signed by another key of the same name", tsr(t, sig, twin, epoch, true), sig, false},
		{"after the leaf's validity", tsr(t, sig, leaf, epoch.Add(2*time.Hour), true), sig, false},
		{"after the intermediate's validity", tsr(t, sig, leaf, epoch.Add(6*time.Hour), true), sig, false},
		{"not a response", []byte("junk"), sig, false},
	}
	check := func(what string, fast bool, ts []byte, sig []byte) {
		t.Helper()
		pt, perr := plain.Verify(ts, sig)
		ft, ferr := f.Verify(ts, sig)
		require.Equal(t, perr == nil, ferr == nil, "%s: plain %v, fast %v", what, perr, ferr)
		if perr != nil {
			require.Equal(t, perr.Error(), ferr.Error(), what)
		} else {
			require.True(t, reflect.DeepEqual(pt, ft), what)
		}
		require.Equal(t, fast, f.fast(ts, sig) != nil, "%s on the fast path", what)
	}
	for _, c := range cases {
		check(c.name, c.fast, c.tsr, c.sig)
	}
	valid := cases[0].tsr
	windowed := *plain
	windowed.ValidityPeriodEnd = epoch.Add(-time.Minute)
	fw := newFastTSA(&windowed)
	require.NotNil(t, fw)
	_, perr := windowed.Verify(valid, sig)
	_, ferr := fw.Verify(valid, sig)
	require.Error(t, perr)
	require.Error(t, ferr, "after the TSA's period")

	// A leaf that outlives its intermediate: a timestamp in between
	// verifies for neither.
	shortI := issue(t, caTmpl("tsa intermediate", -5*time.Hour, 30*time.Minute), r)
	longLeaf := issue(t, tsaLeafTmpl(-time.Hour, time.Hour), shortI)
	outliving := &root.SigstoreTimestampingAuthority{Root: r.cert, Intermediates: []*x509.Certificate{shortI.cert}, Leaf: longLeaf.cert}
	fo := newFastTSA(outliving)
	require.NotNil(t, fo)
	late := tsr(t, sig, longLeaf, epoch.Add(45*time.Minute), true)
	_, perr = outliving.Verify(late, sig)
	_, ferr = fo.Verify(late, sig)
	require.Error(t, perr)
	require.Error(t, ferr, "a timestamp after the intermediate's validity")
	plain.Leaf = twin.cert
	check("a TSA changed after the snapshot", false, valid, sig)
	plain.Leaf = leaf.cert

	// Not eligible: no leaf, a leaf outside its chain, a chain not valid at
	// any one time.
	require.Nil(t, newFastTSA(&root.SigstoreTimestampingAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}}))
	require.Nil(t, newFastTSA(&root.SigstoreTimestampingAuthority{Root: stranger.cert, Leaf: leaf.cert}))
	lateLeaf := issue(t, tsaLeafTmpl(6*time.Hour, 7*time.Hour), i)
	require.Nil(t, newFastTSA(&root.SigstoreTimestampingAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}, Leaf: lateLeaf.cert}))
}

// TestFastRealRootsEligible: every CA with an intermediate and every TSA of
// the real trusted roots takes the fast path; a root-only CA (public-good's
// first) stays on the plain one, which costs it nothing more.
func TestFastRealRootsEligible(t *testing.T) {
	for _, c := range []struct {
		file     string
		cas, tsa int
	}{
		{fixtures.PublicGoodRootFile, 1, 1},
		{fixtures.StagingRootFile, 2, 2},
		{fixtures.GitHubRootFile, 6, 6},
	} {
		m := newFastMaterial(fixtures.TrustedRoot(c.file))
		require.Len(t, m.cas, c.cas, c.file)
		require.Len(t, m.tsas, c.tsa, c.file)
		for _, ca := range m.FulcioCertificateAuthorities() {
			if fca, ok := ca.(*root.FulcioCertificateAuthority); ok {
				require.Empty(t, fca.Intermediates, "%s: an eligible CA left on the plain path", c.file)
			}
		}
		for _, tsa := range m.TimestampingAuthorities() {
			_, plain := tsa.(*root.SigstoreTimestampingAuthority)
			require.False(t, plain, c.file)
		}
	}
}
