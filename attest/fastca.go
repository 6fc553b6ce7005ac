package attest

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	tsaverification "github.com/sigstore/timestamp-authority/v2/pkg/verification"
)

// The fast path: static links verified once per trusted-material snapshot.
//
// sigstore-go v1.3.0 verifies, for every bundle, the whole Fulcio chain
// (leaf, intermediates, root: root.FulcioCertificateAuthority.Verify runs
// x509 path validation with the root as the only anchor) and the whole
// chain of the TSA's certificate (tsaverification.VerifyTimestampResponse,
// called by root.SigstoreTimestampingAuthority.Verify). Most of that is the
// same for every bundle: the signature of each intermediate by its parent,
// and the TSA certificate's chain. fastMaterial hands sigstore-go, through
// its own extension points (root.TrustedMaterial, root.CertificateAuthority,
// root.TimestampingAuthority), authorities that check those static links
// once, when the Verifier is built for a snapshot of trusted material, and
// check all that depends on the bundle every time.
//
// Exactness rests on one rule: the fast path may only accept. Each fast
// authority either accepts with the very result the plain authority would
// return (the same chains, the same timestamp), or calls the plain
// authority and returns whatever it returns. So a verdict, and the error
// sigstore-go builds from it, differs from the plain path's only if the fast
// path accepts something the plain path refuses; the argument below shows
// it cannot, and the differential tests (fast_test.go) and FuzzFastPlain
// check it.
//
// # Fulcio: fastCA
//
// Eligible (decided once, in newFastCA): a *root.FulcioCertificateAuthority
// with a root R and at most maxFastIntermediates intermediates (x509 spends
// one of its at most 100 signature checks per link, and refuses a longer
// chain), all parsed (with their DER, which x509 requires of the
// intermediates it is given, not of its anchors), that form one linear chain
// I0 -> I1 -> ... -> R (each issued by the next, by name), all subject names
// distinct; every static link passes CheckSignatureFrom (signature, and the
// parent's basic constraints, CA flag and certSign key usage); no static
// certificate has unhandled critical extensions; every intermediate is a
// CA (basic constraints valid, cA set: the check x509 applies to
// intermediates and not to the anchor); each certificate's path length
// constraint admits the intermediates below it in any chain from a leaf
// (numIntermediates = its position minus one, the leaf at position 0); each
// has an extended key usage compatible with code signing (none, any, or
// code signing: with one requested usage, x509's nesting check is that
// test per certificate); no certificate above I0 has a name-constraints
// extension (x509 checks a certificate's names against the constraints of
// the certificates above it only, so I0's constraints, checked on the leaf
// by the anchored verification, are the only ones that apply); and no
// intermediate carries policy mappings or a requireExplicitPolicy
// constraint (see policies below). Anything else stays on the plain path.
//
// Per bundle, with leaf L and observer time t, fastCA accepts only when:
//   - the CA's validity period contains t (as sigstore-go checks);
//   - L names I0 as its issuer (an early out: the anchored verification
//     below finds no parent otherwise), and L's subject is none of the
//     static certificates' (a conservative guard: then x509, anchored at R,
//     has exactly one candidate parent at each step, finds no certificate
//     already in the chain, and does not find L itself in the root pool);
//   - L carries no policy mappings and no requireExplicitPolicy constraint;
//   - x509 verifies L with I0 as the only trust anchor, at t, for code
//     signing: L's own checks (validity at t, unhandled critical
//     extensions, its signature by I0 with I0's CA flag and key usage), I0's
//     validity at t, name match, I0's path length, I0's name constraints on
//     L, the EKU of L and I0;
//   - t lies within the validity of every certificate above I0 (the only
//     part of those links that depends on the bundle).
//
// Then the plain x509 run (anchored at R, the intermediates as pool) builds
// exactly one candidate chain, L, I0, ..., R; it validates every link as
// above; policies are valid for it (with no policy mappings and no
// requireExplicitPolicy in L or the intermediates, x509's explicitPolicy
// counter never reaches zero, so policiesValid returns true for both the
// anchored and the full chain, whatever policies they list); the EKU check is
// per certificate; the name constraints are I0's alone. So it returns
// [[L, I0, ..., R]], which fastCA returns too (the SCT check uses chain[1],
// I0).
//
// sigstore-go passes a bundle's own intermediates to the CA only for a
// *root.FulcioCertificateAuthority and only when the bundle was parsed with
// bundle.WithAllowCertificateChain; parseBundle never sets it, so
// VerificationContent().Intermediates() is always empty and the CA type
// makes no difference there.
//
// # Timestamps: fastTSA
//
// Eligible: a *root.SigstoreTimestampingAuthority with a root and a leaf
// (the signer the response must name) whose static chain, leaf to root,
// x509 verifies for time stamping at a time inside all its certificates'
// validity, as exactly one chain using all of them.
//
// Per timestamp, fastTSA accepts only when:
//   - tsaverification.VerifyTimestampResponse, run exactly as sigstore-go
//     runs it but with the trusted leaf as the anchor, accepts: the response
//     status and structure, the hash algorithm, the response signature
//     (twice, as the library does), the signer equal to the trusted leaf, the
//     leaf's validity at the timestamp, its time-stamping EKU, critical EKU,
//     end-entity status, ESS certificate ID, and the message imprint;
//   - every certificate embedded in the response is one of the static chain's
//     (so the plain run's pool holds static certificates only);
//   - the timestamp lies within the validity of every static certificate;
//   - the TSA's validity period contains it (as sigstore-go checks).
//
// Then the plain run differs only in the chain verification of the signer
// (the trusted leaf): over static certificates only, the static chain is
// valid at the timestamp (its time-independent checks passed when the
// snapshot was taken), so x509 accepts, and the intermediates' time-stamping
// EKU that the library checks next is implied by x509's EKU check on that
// chain (which is stricter: unknown usages alone fail it). Both return
// the same time and URI.
//
// # What is never skipped
//
// Per bundle, all of: the leaf's signature by its issuer, every validity
// window at the observer time, the leaf's own checks, the timestamp
// response's signature and contents, the transparency-log entries, SCTs
// and the DSSE signature (those are sigstore-go's, untouched).
//
// The cache is the fastMaterial itself: built by NewVerifier from the
// trusted material it is given, dropped with the Verifier; a refreshed or
// rotated trust root gets a new Verifier and starts from nothing. Nothing
// is persisted. An authority whose fields change after NewVerifier (the
// snapshot no longer matches) is verified on the plain path; certificates
// themselves are taken as immutable, as sigstore-go takes them.

// fastMaterial is trusted material whose Fulcio CAs and TSAs are replaced by
// their fast counterparts where eligible; everything else is tm's.
type fastMaterial struct {
	root.TrustedMaterial
	cas  map[*root.FulcioCertificateAuthority]*fastCA
	tsas map[*root.SigstoreTimestampingAuthority]*fastTSA
}

func newFastMaterial(tm root.TrustedMaterial) *fastMaterial {
	m := &fastMaterial{
		TrustedMaterial: tm,
		cas:             map[*root.FulcioCertificateAuthority]*fastCA{},
		tsas:            map[*root.SigstoreTimestampingAuthority]*fastTSA{},
	}
	for _, ca := range tm.FulcioCertificateAuthorities() {
		if fca, ok := ca.(*root.FulcioCertificateAuthority); ok && fca != nil {
			if f := newFastCA(fca); f != nil {
				m.cas[fca] = f
			}
		}
	}
	for _, tsa := range tm.TimestampingAuthorities() {
		if sta, ok := tsa.(*root.SigstoreTimestampingAuthority); ok && sta != nil {
			if f := newFastTSA(sta); f != nil {
				m.tsas[sta] = f
			}
		}
	}
	return m
}

// FulcioCertificateAuthorities returns tm's CAs, in order, each replaced by
// its fast counterpart when it has one.
func (m *fastMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority {
	cas := m.TrustedMaterial.FulcioCertificateAuthorities()
	out := make([]root.CertificateAuthority, len(cas))
	for i, ca := range cas {
		out[i] = ca
		if fca, ok := ca.(*root.FulcioCertificateAuthority); ok {
			if f := m.cas[fca]; f != nil {
				out[i] = f
			}
		}
	}
	return out
}

// TimestampingAuthorities returns tm's TSAs, in order, each replaced by its
// fast counterpart when it has one.
func (m *fastMaterial) TimestampingAuthorities() []root.TimestampingAuthority {
	tsas := m.TrustedMaterial.TimestampingAuthorities()
	out := make([]root.TimestampingAuthority, len(tsas))
	for i, tsa := range tsas {
		out[i] = tsa
		if sta, ok := tsa.(*root.SigstoreTimestampingAuthority); ok {
			if f := m.tsas[sta]; f != nil {
				out[i] = f
			}
		}
	}
	return out
}

var oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}

func hasNameConstraints(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidNameConstraints) {
			return true
		}
	}
	return false
}

// policyNeutral reports whether c carries nothing that can make x509's
// policy validation fail: no policy mappings and no requireExplicitPolicy.
func policyNeutral(c *x509.Certificate) bool {
	return len(c.PolicyMappings) == 0 && c.RequireExplicitPolicy == 0 && !c.RequireExplicitPolicyZero
}

// ekuAllows reports whether x509's key-usage check, asked for the single
// usage u, lets c through: no EKU at all, any, or u.
func ekuAllows(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) || slices.Contains(c.ExtKeyUsage, u)
}

func validAt(c *x509.Certificate, t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

// maxFastIntermediates bounds the chains fastCA takes: x509 verification
// spends one signature check per link, at most 100 per verification, and
// refuses a longer chain (about 100 intermediates); the fast path, checking
// the static links outside that budget, would accept it.
const maxFastIntermediates = 8

// fastCA is a Fulcio CA whose static links were verified once (see the
// design note above).
type fastCA struct {
	ca *root.FulcioCertificateAuthority
	// What was verified, to notice a CA changed after the snapshot.
	root          *x509.Certificate
	intermediates []*x509.Certificate
	start, end    time.Time

	issuer *x509.Certificate   // I0, the issuer of leaves
	upper  []*x509.Certificate // I1, ..., R: the chain above I0
}

// newFastCA returns the fast counterpart of ca, or nil when ca is not
// eligible.
func newFastCA(ca *root.FulcioCertificateAuthority) *fastCA {
	if ca.Root == nil || len(ca.Intermediates) == 0 || len(ca.Intermediates) > maxFastIntermediates || slices.Contains(ca.Intermediates, nil) {
		return nil
	}
	all := append([]*x509.Certificate{ca.Root}, ca.Intermediates...)
	bySubject := map[string]*x509.Certificate{}
	for _, c := range all {
		if _, dup := bySubject[string(c.RawSubject)]; dup || len(c.Raw) == 0 {
			return nil
		}
		bySubject[string(c.RawSubject)] = c
	}
	// I0 is the one intermediate that issues no other intermediate.
	issues := map[*x509.Certificate]bool{}
	for _, c := range ca.Intermediates {
		if p := bySubject[string(c.RawIssuer)]; p != nil && p != c {
			issues[p] = true
		}
	}
	var issuer *x509.Certificate
	for _, c := range ca.Intermediates {
		if !issues[c] {
			if issuer != nil {
				return nil
			}
			issuer = c
		}
	}
	if issuer == nil {
		return nil
	}
	// Follow the issuers from I0 to the root, through every intermediate.
	chain := []*x509.Certificate{issuer}
	for c := issuer; c != ca.Root; {
		p := bySubject[string(c.RawIssuer)]
		if p == nil || p == c || slices.Contains(chain, p) {
			return nil
		}
		chain = append(chain, p)
		c = p
	}
	if len(chain) != len(all) {
		return nil
	}
	// chain is I0, I1, ..., R; in a chain from a leaf, chain[i] sits at
	// position i+1, with i intermediates below it.
	for i, c := range chain {
		if len(c.UnhandledCriticalExtensions) > 0 || c.PublicKey == nil || !ekuAllows(c, x509.ExtKeyUsageCodeSigning) {
			return nil
		}
		if c.BasicConstraintsValid && c.MaxPathLen >= 0 && i > c.MaxPathLen {
			return nil
		}
		if c == ca.Root {
			break
		}
		if !c.BasicConstraintsValid || !c.IsCA || !policyNeutral(c) {
			return nil
		}
		if i > 0 && hasNameConstraints(c) {
			return nil
		}
		if c.CheckSignatureFrom(chain[i+1]) != nil {
			return nil
		}
	}
	if hasNameConstraints(ca.Root) {
		return nil
	}
	return &fastCA{
		ca: ca, root: ca.Root, intermediates: slices.Clone(ca.Intermediates),
		start: ca.ValidityPeriodStart, end: ca.ValidityPeriodEnd,
		issuer: issuer, upper: chain[1:],
	}
}

// unchanged reports whether the CA still holds what was verified.
func (f *fastCA) unchanged() bool {
	return f.ca.Root == f.root && slices.Equal(f.ca.Intermediates, f.intermediates) &&
		f.ca.ValidityPeriodStart.Equal(f.start) && f.ca.ValidityPeriodEnd.Equal(f.end)
}

// Verify is root.FulcioCertificateAuthority.Verify, with the static links
// verified once.
func (f *fastCA) Verify(cert *x509.Certificate, observerTimestamp time.Time) ([][]*x509.Certificate, error) {
	if chains := f.fast(cert, observerTimestamp); chains != nil {
		return chains, nil
	}
	return f.ca.Verify(cert, observerTimestamp)
}

// fast returns the chains the plain verification would return, or nil when
// it cannot tell (the plain verification then decides).
func (f *fastCA) fast(leaf *x509.Certificate, t time.Time) [][]*x509.Certificate {
	if leaf == nil || !f.unchanged() {
		return nil
	}
	if !f.start.IsZero() && t.Before(f.start) || !f.end.IsZero() && t.After(f.end) {
		return nil
	}
	if !bytes.Equal(leaf.RawIssuer, f.issuer.RawSubject) || bytes.Equal(leaf.RawSubject, f.issuer.RawSubject) || !policyNeutral(leaf) {
		return nil
	}
	for _, c := range f.upper {
		if bytes.Equal(leaf.RawSubject, c.RawSubject) || !validAt(c, t) {
			return nil
		}
	}
	anchor := x509.NewCertPool()
	anchor.AddCert(f.issuer)
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         anchor,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   t,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil || len(chains) != 1 || len(chains[0]) != 2 || chains[0][0] != leaf || chains[0][1] != f.issuer {
		return nil
	}
	chain := make([]*x509.Certificate, 0, 2+len(f.upper))
	chain = append(chain, leaf, f.issuer)
	return [][]*x509.Certificate{append(chain, f.upper...)}
}

// fastTSA is a timestamping authority whose certificate chain was verified
// once (see the design note above).
type fastTSA struct {
	tsa *root.SigstoreTimestampingAuthority
	// What was verified, to notice a TSA changed after the snapshot.
	root, leaf    *x509.Certificate
	intermediates []*x509.Certificate
	start, end    time.Time
	uri           string

	static []*x509.Certificate // leaf, intermediates, root
}

// newFastTSA returns the fast counterpart of tsa, or nil when tsa is not
// eligible.
func newFastTSA(tsa *root.SigstoreTimestampingAuthority) *fastTSA {
	if tsa.Root == nil || tsa.Leaf == nil || slices.Contains(tsa.Intermediates, nil) {
		return nil
	}
	static := append(append([]*x509.Certificate{tsa.Leaf}, tsa.Intermediates...), tsa.Root)
	// A time inside every static certificate's validity, if there is one.
	at := tsa.Leaf.NotBefore
	for _, c := range static {
		if c.NotBefore.After(at) {
			at = c.NotBefore
		}
	}
	for _, c := range static {
		if !validAt(c, at) {
			return nil
		}
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(tsa.Root)
	for _, c := range tsa.Intermediates {
		inter.AddCert(c)
	}
	chains, err := tsa.Leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil || len(chains) != 1 || len(chains[0]) != len(static) {
		return nil
	}
	for _, c := range static {
		if !slices.Contains(chains[0], c) {
			return nil
		}
	}
	return &fastTSA{
		tsa: tsa, root: tsa.Root, leaf: tsa.Leaf, intermediates: slices.Clone(tsa.Intermediates),
		start: tsa.ValidityPeriodStart, end: tsa.ValidityPeriodEnd, uri: tsa.URI,
		static: static,
	}
}

func (f *fastTSA) unchanged() bool {
	return f.tsa.Root == f.root && f.tsa.Leaf == f.leaf && slices.Equal(f.tsa.Intermediates, f.intermediates) &&
		f.tsa.ValidityPeriodStart.Equal(f.start) && f.tsa.ValidityPeriodEnd.Equal(f.end) && f.tsa.URI == f.uri
}

// Verify is root.SigstoreTimestampingAuthority.Verify, with the chain of the
// TSA's certificate verified once.
func (f *fastTSA) Verify(signedTimestamp []byte, signatureBytes []byte) (*root.Timestamp, error) {
	if ts := f.fast(signedTimestamp, signatureBytes); ts != nil {
		return ts, nil
	}
	return f.tsa.Verify(signedTimestamp, signatureBytes)
}

func (f *fastTSA) fast(signedTimestamp, signatureBytes []byte) *root.Timestamp {
	if !f.unchanged() {
		return nil
	}
	ts, err := tsaverification.VerifyTimestampResponse(signedTimestamp, bytes.NewReader(signatureBytes), tsaverification.VerifyOpts{
		Roots:          []*x509.Certificate{f.leaf},
		TSACertificate: f.leaf,
	})
	if err != nil || ts == nil {
		return nil
	}
	for _, c := range ts.Certificates {
		if c == nil || !slices.ContainsFunc(f.static, c.Equal) {
			return nil
		}
	}
	for _, c := range f.static {
		if !validAt(c, ts.Time) {
			return nil
		}
	}
	if !f.start.IsZero() && ts.Time.Before(f.start) || !f.end.IsZero() && ts.Time.After(f.end) {
		return nil
	}
	return &root.Timestamp{Time: ts.Time, URI: f.uri}
}
