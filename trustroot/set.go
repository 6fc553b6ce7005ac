package trustroot

import (
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Set is the trusted material of several Sigstore instances at once (the
// public-good instance, a private one, GitHub's). Verifiers that know it
// (package attest) verify each bundle against the one instance whose CA
// issued its certificate, never against a pool of all of them, so that a
// certificate of one instance with a log entry of another does not verify.
// Its TrustedMaterial methods return the pooled view, for other code.
type Set []root.TrustedMaterial

// Members returns the instances.
func (s Set) Members() []root.TrustedMaterial { return s }

func (s Set) pooled() root.TrustedMaterialCollection { return root.TrustedMaterialCollection(s) }

// TimestampingAuthorities returns the TSAs of every member.
func (s Set) TimestampingAuthorities() []root.TimestampingAuthority {
	return s.pooled().TimestampingAuthorities()
}

// FulcioCertificateAuthorities returns the CAs of every member.
func (s Set) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return s.pooled().FulcioCertificateAuthorities()
}

// RekorLogs returns the transparency logs of every member.
func (s Set) RekorLogs() map[string]*root.TransparencyLog { return s.pooled().RekorLogs() }

// CTLogs returns the CT logs of every member.
func (s Set) CTLogs() map[string]*root.TransparencyLog { return s.pooled().CTLogs() }

// PublicKeyVerifier looks keyID up in every member.
func (s Set) PublicKeyVerifier(keyID string) (root.TimeConstrainedVerifier, error) {
	return s.pooled().PublicKeyVerifier(keyID)
}

// FromFiles reads several trusted_root.json files into one Static source
// whose material is a Set. No network is used.
func FromFiles(paths ...string) (*Static, error) {
	set := make(Set, 0, len(paths))
	for _, p := range paths {
		s, err := FromFile(p)
		if err != nil {
			return nil, err
		}
		set = append(set, s.snap.Material)
	}
	st := NewStatic(set, strings.Join(paths, ", "))
	st.snap.Info.Kind = "file"
	return st, nil
}
