package condasigstest

import (
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// Sigstore is a throw-away Sigstore instance: sigstore-go's test-only
// VirtualSigstore, held privately so that its API is not this package's.
type Sigstore struct {
	vs *ca.VirtualSigstore

	rootOnce sync.Once
	rootJSON []byte
	rootErr  error
}

// NewSigstore creates a fresh virtual Sigstore with its own random keys.
// Sign with it within 5 minutes for the RFC 3161 timestamp to verify too
// (see the package documentation for the validity windows).
func NewSigstore(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatalf("condasigstest: creating a virtual sigstore: %v", err)
	}
	return &Sigstore{vs: vs}
}

// integratedTimeOffset is how long after signing [Sigstore.Bundle] sets the
// log entry's integrated time: the middle of the leaf certificate's ten
// minutes of validity, as sigstore-go's own Attest does. Signing time itself
// would be flaky: the integrated time is truncated to the second and can
// fall before the certificate's NotBefore.
const integratedTimeOffset = 5 * time.Minute

// Bundle signs statement (any bytes, used as the DSSE payload with payload
// type application/vnd.in-toto+json) with a fresh leaf certificate for
// identity (an email SAN) and issuer, and returns a Sigstore bundle v0.3 JSON
// document: the leaf certificate, the DSSE envelope, a Rekor v1 dsse entry
// with its inclusion promise and inclusion proof, and an RFC 3161 timestamp.
func (s *Sigstore) Bundle(t testing.TB, identity, issuer string, statement []byte) []byte {
	t.Helper()
	return s.BundleAt(t, identity, issuer, statement, time.Now().Add(integratedTimeOffset))
}

// BundleAt is [Sigstore.Bundle] with the log entry's integrated time given.
// The leaf certificate is valid for ten minutes from now; an integrated time
// outside that window makes the bundle fail with attest.CodeTransparencyLog.
func (s *Sigstore) BundleAt(t testing.TB, identity, issuer string, statement []byte, integrated time.Time) []byte {
	t.Helper()
	entity, err := s.vs.AttestAtTime(identity, issuer, statement, integrated, true)
	if err != nil {
		t.Fatalf("condasigstest: attesting: %v", err)
	}
	out, err := s.assemble(entity, nil)
	if err != nil {
		t.Fatalf("condasigstest: assembling the bundle: %v", err)
	}
	return out
}

// BundleLoggedBy is [Sigstore.Bundle] with the certificate, signature and
// timestamp from s but the transparency-log entry from another instance's
// log: a cross-instance bundle, which verifies against pooled trusted
// material of both and must not verify against either instance alone.
func (s *Sigstore) BundleLoggedBy(t testing.TB, log *Sigstore, identity, issuer string, statement []byte) []byte {
	t.Helper()
	entity, err := s.vs.AttestAtTime(identity, issuer, statement, time.Now().Add(integratedTimeOffset), true)
	if err != nil {
		t.Fatalf("condasigstest: attesting: %v", err)
	}
	out, err := s.assemble(entity, log)
	if err != nil {
		t.Fatalf("condasigstest: assembling the bundle: %v", err)
	}
	return out
}

// TrustedRootJSON returns s as a trusted_root.json document (without CT
// logs, as CTLogs says), the same document every time: for
// condasigs.Options.Trust, read it with trustroot.FromJSON (whose digest is
// then stable); or serve it from a TUF repository, or pass it as a file.
//
//	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
func (s *Sigstore) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	// Made once: the virtual logs' validity starts when they are listed,
	// and the same Sigstore must always have the same digest.
	s.rootOnce.Do(func() { s.rootJSON, s.rootErr = s.trustedRootJSON() })
	if s.rootErr != nil {
		t.Fatalf("condasigstest: trusted root: %v", s.rootErr)
	}
	return s.rootJSON
}

func (s *Sigstore) trustedRootJSON() ([]byte, error) {
	// VirtualSigstore's log IDs are the hex strings' bytes; a trusted root
	// carries the raw key ID.
	logs := map[string]*root.TransparencyLog{}
	for id, l := range s.vs.RekorLogs() {
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, fmt.Errorf("log ID %q: %w", id, err)
		}
		c := *l
		c.ID = raw
		logs[id] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.vs.FulcioCertificateAuthorities(), nil, s.vs.TimestampingAuthorities(), logs)
	if err != nil {
		return nil, err
	}
	return tr.MarshalJSON()
}

// TrustedMaterial returns s's trusted material (its Fulcio CA, Rekor log
// and timestamping authority) for attest.NewVerifier or
// trustroot.NewStatic. It lists no CT log (the virtual certificates carry
// no SCTs), so attest.NewVerifier requires no SCT for it. The log is
// trusted from an hour before to an hour after the moment of verification.
func (s *Sigstore) TrustedMaterial() root.TrustedMaterial {
	return material{s.vs}
}

// material is a VirtualSigstore as root.TrustedMaterial, without its CT
// log.
type material struct{ vs *ca.VirtualSigstore }

func (m material) TimestampingAuthorities() []root.TimestampingAuthority {
	return m.vs.TimestampingAuthorities()
}

func (m material) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return m.vs.FulcioCertificateAuthorities()
}

func (m material) RekorLogs() map[string]*root.TransparencyLog { return m.vs.RekorLogs() }

func (material) CTLogs() map[string]*root.TransparencyLog {
	return map[string]*root.TransparencyLog{}
}

func (m material) PublicKeyVerifier(keyID string) (root.TimeConstrainedVerifier, error) {
	return m.vs.PublicKeyVerifier(keyID)
}
