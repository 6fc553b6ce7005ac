package trustroot

import (
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// memberSet is the trusted material of several Sigstore instances at once (the
// public-good instance, a private one, GitHub's). Verifiers that know it
// (package attest) verify each bundle against the one instance whose CA
// issued its certificate, never against a pool of all of them, so that a
// certificate of one instance with a log entry of another does not verify.
// Its TrustedMaterial methods return the pooled view, for other code.
type memberSet []root.TrustedMaterial

// Members returns the instances.
func (s memberSet) Members() []root.TrustedMaterial { return s }

func (s memberSet) pooled() root.TrustedMaterialCollection { return root.TrustedMaterialCollection(s) }

// TimestampingAuthorities returns the TSAs of every member.
func (s memberSet) TimestampingAuthorities() []root.TimestampingAuthority {
	return s.pooled().TimestampingAuthorities()
}

// FulcioCertificateAuthorities returns the CAs of every member.
func (s memberSet) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return s.pooled().FulcioCertificateAuthorities()
}

// RekorLogs returns the transparency logs of every member.
func (s memberSet) RekorLogs() map[string]*root.TransparencyLog { return s.pooled().RekorLogs() }

// CTLogs returns the CT logs of every member.
func (s memberSet) CTLogs() map[string]*root.TransparencyLog { return s.pooled().CTLogs() }

// PublicKeyVerifier looks keyID up in every member.
func (s memberSet) PublicKeyVerifier(keyID string) (root.TimeConstrainedVerifier, error) {
	return s.pooled().PublicKeyVerifier(keyID)
}

// fromFiles is FromFile of several paths: one Source whose material is a
// set.
func fromFiles(paths []string) (Source, error) {
	set := make(memberSet, 0, len(paths))
	digests := make([]string, 0, len(paths))
	logs := 0
	for _, p := range paths {
		b, err := readRootFile(p)
		if err != nil {
			return nil, err
		}
		tr, err := parseTrustedRoot(b)
		if err != nil {
			return nil, fmt.Errorf("trustroot: %s: %w", p, err)
		}
		logs += len(tr.RekorLogs())
		set = append(set, tr)
		digests = append(digests, digestOf(b))
	}
	if logs == 0 {
		return nil, fmt.Errorf("trustroot: %s: %w", strings.Join(paths, ", "), errNoLogs)
	}
	return &static{snap: &Snapshot{Material: set, Info: Info{Kind: "file", Source: strings.Join(paths, ", "),
		LoadedAt: time.Now().UTC(), Digest: digestOfSet(digests)}}}, nil
}
