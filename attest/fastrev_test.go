package attest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/require"
)

// Adversarial differential tests of fastCA and fastTSA (review of issue
// 16): hierarchies and leaves an attacker or an odd trusted root could
// present, each compared with sigstore-go's own authority.

type anyCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// issueAny creates a certificate from tmpl for key, signed by parent
// (self-signed when parent is nil).
func issueAny(t *testing.T, tmpl *x509.Certificate, parent *anyCert, key crypto.Signer) *anyCert {
	t.Helper()
	serial++
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(serial)
	}
	p, pk := tmpl, key
	if parent != nil {
		p, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, key.Public(), pk)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &anyCert{c, key}
}

func ed25519Key(t *testing.T) crypto.Signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func rsaKey(t *testing.T) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

func ecKey(t *testing.T) crypto.Signer { return issue(t, caTmpl("k", -time.Hour, time.Hour), nil).key }

// TestFastCAAdversarialLeaves: leaves and hierarchies beyond
// TestFastCAMatchesPlain's, under every observer time: other key types,
// policies, critical extensions, key identifier games, CA leaves.
func TestFastCAAdversarialLeaves(t *testing.T) {
	for _, kt := range []struct {
		name string
		key  func(*testing.T) crypto.Signer
	}{{"ecdsa", ecKey}, {"ed25519", ed25519Key}, {"rsa", rsaKey}} {
		t.Run(kt.name, func(t *testing.T) {
			r := issueAny(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil, kt.key(t))
			i := issueAny(t, caTmpl("intermediate", -5*time.Hour, 5*time.Hour), r, kt.key(t))
			// The intermediate's name, another key, certified by the root:
			// not in the trusted material.
			twin := issueAny(t, caTmpl("intermediate", -5*time.Hour, 5*time.Hour), r, kt.key(t))
			plain := &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}}
			f := newFastCA(plain)
			require.NotNil(t, f)

			leaves := map[string]*x509.Certificate{}
			add := func(name string, tmpl *x509.Certificate, parent *anyCert) {
				leaves[name] = issueAny(t, tmpl, parent, kt.key(t)).cert
			}
			add("good", leafTmpl("a@x.example", -time.Hour, time.Hour), i)
			add("by the twin", leafTmpl("a@x.example", -time.Hour, time.Hour), twin)
			aki := leafTmpl("a@x.example", -time.Hour, time.Hour)
			aki.AuthorityKeyId = []byte("not the intermediate's key id")
			add("foreign authority key id", aki, i)
			crit := leafTmpl("a@x.example", -time.Hour, time.Hour)
			crit.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
			add("unknown critical extension", crit, i)
			caLeaf := caTmpl("leaf ca", -time.Hour, time.Hour)
			caLeaf.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
			caLeaf.PermittedDNSDomains = []string{"only.example"}
			caLeaf.EmailAddresses = []string{"a@x.example"}
			add("a CA with name constraints", caLeaf, i)
			pol := leafTmpl("a@x.example", -time.Hour, time.Hour)
			pol.Policies = []x509.OID{mustOID(t, 1, 3, 6, 1, 4, 1, 99999, 1)}
			pol.InhibitAnyPolicy, pol.InhibitAnyPolicyZero = 0, true
			add("policies and inhibitAnyPolicy", pol, i)
			mapping := leafTmpl("a@x.example", -time.Hour, time.Hour)
			mapping.PolicyMappings = []x509.PolicyMapping{{IssuerDomainPolicy: mustOID(t, 2, 5, 29, 32, 0), SubjectDomainPolicy: mustOID(t, 1, 3, 6, 1, 4, 1, 99999, 1)}}
			add("policy mapping from anyPolicy", mapping, i)
			any := leafTmpl("a@x.example", -time.Hour, time.Hour)
			any.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
			add("any usage", any, i)
			unknownEKU := leafTmpl("a@x.example", -time.Hour, time.Hour)
			unknownEKU.ExtKeyUsage = nil
			unknownEKU.UnknownExtKeyUsage = []asn1.ObjectIdentifier{{1, 2, 3, 4}}
			add("unknown usage only", unknownEKU, i)
			noEKU := leafTmpl("a@x.example", -time.Hour, time.Hour)
			noEKU.ExtKeyUsage = nil
			add("no usage", noEKU, i)
			selfNamed := leafTmpl("a@x.example", -time.Hour, time.Hour)
			selfNamed.Subject = pkix.Name{CommonName: "intermediate", Organization: []string{"condasigs test"}}
			add("the intermediate's subject", selfNamed, i)

			times := []time.Duration{0, 59 * time.Minute, 61 * time.Minute, -61 * time.Minute, 6 * time.Hour, -6 * time.Hour, 11 * time.Hour}
			for name, leaf := range leaves {
				for _, d := range times {
					sameCAResult(t, name+" at "+d.String(), f, plain, leaf, epoch.Add(d))
				}
			}
			require.NotNil(t, f.fast(leaves["good"], epoch), "the good leaf takes the fast path")
		})
	}
}

// TestFastCAIntermediatePolicies: intermediates carrying policies,
// inhibitAnyPolicy or inhibitPolicyMapping, which the design note says
// cannot make x509's policy validation fail without requireExplicitPolicy.
func TestFastCAIntermediatePolicies(t *testing.T) {
	r := issue(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil)
	tmpl := caTmpl("intermediate", -5*time.Hour, 5*time.Hour)
	tmpl.Policies = []x509.OID{mustOID(t, 1, 3, 6, 1, 4, 1, 99999, 1)}
	tmpl.InhibitAnyPolicy, tmpl.InhibitAnyPolicyZero = 0, true
	tmpl.InhibitPolicyMapping, tmpl.InhibitPolicyMappingZero = 0, true
	i := issue(t, tmpl, r)
	plain := &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}}
	f := newFastCA(plain)
	require.NotNil(t, f)
	for _, pols := range [][]x509.OID{nil, {mustOID(t, 1, 3, 6, 1, 4, 1, 99999, 1)}, {mustOID(t, 1, 3, 6, 1, 4, 1, 99999, 2)}, {mustOID(t, 2, 5, 29, 32, 0)}} {
		l := leafTmpl("a@x.example", -time.Hour, time.Hour)
		l.Policies = pols
		leaf := issue(t, l, i).cert
		sameCAResult(t, fmt.Sprint(pols), f, plain, leaf, epoch)
	}
}

// TestFastCALongChain: a CA whose chain is longer than x509's budget of
// signature checks per verification. sigstore-go's verification runs out
// of it and refuses every leaf; the fast path, checking the static links
// once outside that budget, must not accept them.
func TestFastCALongChain(t *testing.T) {
	r := issue(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil)
	plain := &root.FulcioCertificateAuthority{Root: r.cert}
	parent := r
	for n := range 100 {
		parent = issue(t, caTmpl(fmt.Sprintf("intermediate %d", n), -5*time.Hour, 5*time.Hour), parent)
		plain.Intermediates = append([]*x509.Certificate{parent.cert}, plain.Intermediates...)
	}
	leaf := issue(t, leafTmpl("a@x.example", -time.Hour, time.Hour), parent).cert
	_, err := plain.Verify(leaf, epoch)
	require.Error(t, err, "sigstore-go refuses a chain beyond x509's signature budget")
	sameCAResult(t, "100 intermediates", fastOrPlain(plain), plain, leaf, epoch)
}

// TestFastCAUnparsedIntermediate: an intermediate built in code, without
// its DER (Raw), which x509 refuses in the intermediate pool.
func TestFastCAUnparsedIntermediate(t *testing.T) {
	r := issue(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil)
	mid := issue(t, caTmpl("middle", -5*time.Hour, 5*time.Hour), r)
	i := issue(t, caTmpl("intermediate", -5*time.Hour, 5*time.Hour), mid)
	leaf := issue(t, leafTmpl("a@x.example", -time.Hour, time.Hour), i).cert
	for n := range 2 {
		inters := []*x509.Certificate{i.cert, mid.cert}
		bare := *inters[n]
		bare.Raw = nil
		inters[n] = &bare
		plain := &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: inters}
		_, err := plain.Verify(leaf, epoch)
		require.Error(t, err)
		sameCAResult(t, fmt.Sprintf("intermediate %d without DER", n), fastOrPlain(plain), plain, leaf, epoch)
	}
}

// fastOrPlain is ca's fast counterpart, or ca when it has none.
func fastOrPlain(ca *root.FulcioCertificateAuthority) root.CertificateAuthority {
	if f := newFastCA(ca); f != nil {
		return f
	}
	return ca
}

// TestFastConcurrentMixed: one fastCA and one fastTSA shared by many
// goroutines verifying good and bad inputs interleaved (run with -race):
// no verdict depends on what another goroutine verified before.
func TestFastConcurrentMixed(t *testing.T) {
	r := issue(t, caTmpl("root", -10*time.Hour, 10*time.Hour), nil)
	i := issue(t, caTmpl("intermediate", -5*time.Hour, 5*time.Hour), r)
	forger := issue(t, caTmpl("intermediate", -5*time.Hour, 5*time.Hour), nil)
	plainCA := &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}}
	fca := newFastCA(plainCA)
	require.NotNil(t, fca)
	good := issue(t, leafTmpl("a@x.example", -time.Hour, time.Hour), i).cert
	bad := issue(t, leafTmpl("a@x.example", -time.Hour, time.Hour), forger).cert

	tr := issue(t, caTmpl("tsa root", -10*time.Hour, 10*time.Hour), nil)
	tl := issue(t, tsaLeafTmpl(-time.Hour, time.Hour), tr)
	twin := issue(t, tsaLeafTmpl(-time.Hour, time.Hour), tr)
	plainTSA := &root.SigstoreTimestampingAuthority{Root: tr.cert, Leaf: tl.cert}
	ftsa := newFastTSA(plainTSA)
	require.NotNil(t, ftsa)
	sig := []byte("sig")
	goodTS, badTS := tsr(t, sig, tl, epoch, true), tsr(t, sig, twin, epoch, true)

	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 40 {
				okLeaf := (g+n)%2 == 0
				leaf := bad
				if okLeaf {
					leaf = good
				}
				if _, err := fca.Verify(leaf, epoch); (err == nil) != okLeaf {
					errs <- fmt.Sprintf("goroutine %d round %d: leaf good=%v, error %v", g, n, okLeaf, err)
				}
				ts := badTS
				if !okLeaf {
					ts = goodTS
				}
				if _, err := ftsa.Verify(ts, sig); (err == nil) != !okLeaf {
					errs <- fmt.Sprintf("goroutine %d round %d: timestamp good=%v, error %v", g, n, !okLeaf, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
