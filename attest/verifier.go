package attest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Subject is what a bundle must attest: the package, by name and digest,
// and the channel it was retrieved from.
type Subject struct {
	// Filename is the package filename exactly as in repodata.
	Filename string
	// SHA256 is the package's SHA-256 in hex: from the downloaded bytes
	// when the caller has them, else from the repodata record.
	SHA256 string
	// Channel is the URL of the channel the package came from. Empty skips
	// the targetChannel comparison (ChannelUnchecked).
	Channel string
}

// Thresholds are the Sigstore checks a Verifier requires of every bundle.
// They derive from the trusted material and are never relaxed by option.
type Thresholds struct {
	// TransparencyLog is the number of verified log entries required (1).
	TransparencyLog int `json:"transparencyLog"`
	// ObserverTimestamps is the number of verified timestamps (log
	// integrated times or RFC 3161 timestamps) required (1).
	ObserverTimestamps int `json:"observerTimestamps"`
	// SignedCertificateTimestamps is 1 when the trusted material lists CT
	// logs, 0 when it has none (a private instance without CT).
	SignedCertificateTimestamps int `json:"signedCertificateTimestamps"`
}

// Verifier verifies bundles against trusted material. It is safe for
// concurrent use.
type Verifier struct {
	material   root.TrustedMaterial
	sigstore   *verify.Verifier
	thresholds Thresholds
	// fast is set when sigstore verifies with the fast path (fastca.go).
	fast bool
	// members, for trusted material of several Sigstore instances: each
	// bundle is verified against the instance whose CA issued it.
	members []*Verifier
	parent  *Verifier // of a member: the set, for TrustRootName

	// TrustRootName, if set before the Verifier is first used, names the
	// trusted material in messages, e.g. "file trusted_root.json" or "TUF
	// repository https://tuf-repo-cdn.sigstore.dev": a bundle whose log,
	// CA or timestamping authority it does not list says which is missing
	// from where.
	TrustRootName string
}

// multi is trusted material of several Sigstore instances, such as that of
// trustroot.FromFile with several files or of trustroot.Combine. A Verifier for it verifies each bundle against the one
// instance whose Fulcio CA issued its certificate: a certificate of one
// instance with a log entry of another never verifies, as it would against
// pooled material (root.TrustedMaterialCollection).
type multi interface {
	root.TrustedMaterial
	Members() []root.TrustedMaterial
}

// NewVerifier returns a Verifier for the trusted material tm, with
// thresholds fitting it: a transparency-log entry and an observer timestamp
// always, and an SCT when tm has CT logs. For material of several
// instances (with a Members method, as trustroot.FromFile of several files and trustroot.Combine give), each bundle is
// verified against the instance that issued its certificate, with that
// instance's thresholds; Thresholds then reports the weakest.
func NewVerifier(tm root.TrustedMaterial) (*Verifier, error) {
	return newVerifier(tm, true)
}

// newVerifier is NewVerifier; fast selects the fast path (fastca.go), which
// gives the same verdicts as the plain one, sigstore-go's own authorities.
func newVerifier(tm root.TrustedMaterial, fast bool) (*Verifier, error) {
	if tm == nil {
		return nil, errors.New("attest: nil trusted material")
	}
	if m, ok := tm.(multi); ok {
		return newSetVerifier(m, fast)
	}
	th := Thresholds{TransparencyLog: 1, ObserverTimestamps: 1}
	opts := []verify.VerifierOption{
		verify.WithTransparencyLog(th.TransparencyLog),
		verify.WithObserverTimestamps(th.ObserverTimestamps),
	}
	if len(tm.CTLogs()) > 0 {
		th.SignedCertificateTimestamps = 1
		opts = append(opts, verify.WithSignedCertificateTimestamps(th.SignedCertificateTimestamps))
	}
	sm := tm
	if fast {
		sm = newFastMaterial(tm)
	}
	sv, err := verify.NewVerifier(sm, opts...)
	if err != nil {
		return nil, fmt.Errorf("attest: building the sigstore verifier: %w", err)
	}
	return &Verifier{material: tm, sigstore: sv, thresholds: th, fast: fast}, nil
}

func newSetVerifier(set multi, fast bool) (*Verifier, error) {
	members := set.Members()
	if len(members) == 0 {
		return nil, errors.New("attest: empty set of trusted material")
	}
	v := &Verifier{material: set}
	for i, tm := range members {
		m, err := newVerifier(tm, fast)
		if err != nil {
			return nil, fmt.Errorf("attest: member %d: %w", i, err)
		}
		m.parent = v
		v.members = append(v.members, m)
		if i == 0 {
			v.thresholds = m.thresholds
		}
		v.thresholds.SignedCertificateTimestamps = min(v.thresholds.SignedCertificateTimestamps, m.thresholds.SignedCertificateTimestamps)
	}
	return v, nil
}

// Thresholds returns the checks v requires of every bundle.
func (v *Verifier) Thresholds() Thresholds { return v.thresholds }

// verifySet verifies a bundle against the member(s) whose Fulcio CA issued
// its certificate.
func (v *Verifier) verifySet(index int, raw []byte, s Subject) Evidence {
	b, code, err := parseBundle(raw)
	if err != nil {
		return Evidence{Index: index}.fail(code, err.Error())
	}
	var leaf *x509.Certificate
	if vc, err := b.VerificationContent(); err == nil {
		leaf = vc.Certificate()
	}
	if leaf == nil {
		return Evidence{Index: index, MediaType: b.MediaType}.fail(CodeCertificate, "the bundle carries no certificate")
	}
	var last Evidence
	tried := false
	for _, m := range v.members {
		if !issuedBy(leaf, m.material) {
			continue
		}
		tried = true
		if last = m.VerifyBundle(index, raw, s); last.Verified {
			return last
		}
	}
	if !tried {
		return Evidence{Index: index, MediaType: b.MediaType}.fail(CodeCertificate,
			fmt.Sprintf("the certificate was issued by %q, a CA of none of the trusted roots%s: verify the bundle against the trusted root of the Sigstore instance that issued it", leaf.Issuer.String(), v.setName()))
	}
	return last
}

// issuedBy reports whether one of tm's Fulcio CAs could have issued leaf,
// by key identifier (or, without one, by name). The signature itself is
// checked later, by sigstore-go.
func issuedBy(leaf *x509.Certificate, tm root.TrustedMaterial) bool {
	for _, ca := range tm.FulcioCertificateAuthorities() {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			return true // an authority we cannot inspect: let sigstore-go decide
		}
		for _, c := range append(slices.Clone(fca.Intermediates), fca.Root) {
			if c == nil {
				continue
			}
			if len(leaf.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 {
				if bytes.Equal(leaf.AuthorityKeyId, c.SubjectKeyId) {
					return true
				}
			} else if bytes.Equal(leaf.RawIssuer, c.RawSubject) {
				return true
			}
		}
	}
	return false
}

// VerifySidecar parses a sidecar and verifies each of its bundles
// independently. The error is non-nil only when ctx ended between two
// bundles (then it is ctx's error) or the sidecar is malformed: not a JSON
// array of one to MaxBundles JSON objects, which CEP 50 makes a retrieval
// failure, never "no attestations". A bundle that fails is reported in its
// Evidence.
func (v *Verifier) VerifySidecar(ctx context.Context, data []byte, s Subject) ([]Evidence, error) {
	raws, err := parseSidecar(data)
	if err != nil {
		return nil, err
	}
	out := make([]Evidence, len(raws))
	for i, raw := range raws {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = v.VerifyBundle(i, raw, s)
	}
	return out, nil
}

// VerifyBundle verifies one bundle, given as JSON, against s. index is
// recorded in the Evidence.
func (v *Verifier) VerifyBundle(index int, raw []byte, s Subject) Evidence {
	if v.members != nil {
		return v.verifySet(index, raw, s)
	}
	ev := Evidence{Index: index}
	digest, err := hex.DecodeString(s.SHA256)
	if err != nil || len(digest) != 32 {
		return ev.fail(CodePackageDigestAbsent, "no valid package SHA-256 to compare with: the record has none and no package bytes were given")
	}
	entity, b, code, err := v.parse(raw)
	if err != nil {
		return ev.fail(code, err.Error())
	}
	ev.MediaType = b.MediaType

	res, err := v.sigstore.Verify(entity, verify.NewPolicy(
		verify.WithArtifactDigest("sha256", digest), verify.WithoutIdentitiesUnsafe()))
	digestRejected := false
	if err != nil {
		// Find out whether the digest alone was refused, for a precise
		// code: verify a fresh copy without it. Only failures pay this.
		fresh, fb, _, perr := v.parse(raw)
		if perr != nil {
			return ev.fail(v.explain(b, err))
		}
		res, err = v.sigstore.Verify(fresh, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
		if err != nil {
			return ev.fail(v.explain(fb, err))
		}
		digestRejected = true
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return ev.fail(CodeCertificate, "signed with a key, not a Fulcio certificate")
	}
	if err := checkKindVersion(b); err != nil {
		return ev.fail(CodeTransparencyLog, err.Error())
	}
	ev.SignatureVerified = true
	cert := res.Signature.Certificate
	ev.SAN = cert.SubjectAlternativeName
	ev.Issuer = cert.Extensions.Issuer
	claims := cert.Extensions
	ev.Claims = &claims
	for _, ts := range res.VerifiedTimestamps {
		ev.Timestamps = append(ev.Timestamps, Timestamp{Type: ts.Type, URI: ts.URI, Time: ts.Timestamp.UTC()})
	}
	ev.LogEntries = v.logEntries(entity, res)

	if code, msg := checkStatement(&ev, res, s); code != "" {
		return ev.fail(code, msg)
	}
	if digestRejected { // cannot happen if checkStatement is right; fail closed
		return ev.fail(CodeSubjectDigest, "sigstore-go refused the package digest")
	}
	ev.Verified = true
	return ev
}

func (ev Evidence) fail(code Code, msg string) Evidence {
	ev.Verified = false
	ev.Code = code
	ev.Message = msg
	return ev
}

// parseBundle parses one bundle. A fresh parse per verification is needed:
// sigstore-go's Bundle caches state and is not safe to share.
func parseBundle(raw []byte) (*bundle.Bundle, Code, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		if errors.Is(err, bundle.ErrUnsupportedMediaType) {
			return nil, CodeBundleUnsupported, fmt.Errorf("unsupported bundle: %w", err)
		}
		return nil, CodeBundleMalformed, fmt.Errorf("not a Sigstore bundle: %w", err)
	}
	switch ver, _ := b.Version(); ver {
	case "v0.1", "v0.2", "v0.3":
	default:
		return nil, CodeBundleUnsupported, fmt.Errorf("unsupported bundle media type %q: want v0.1, v0.2 or v0.3", b.MediaType)
	}
	if b.GetDsseEnvelope() == nil {
		return nil, CodeNotDSSE, errors.New("the bundle holds a message signature; a CEP 27 attestation is a DSSE envelope")
	}
	return &b, "", nil
}

// logEntries lists the bundle's log entries that sigstore-go counted as
// verified. It skips, as sigstore-go does, entries of logs the trusted
// material does not know and entries whose inclusion promise fails; any
// other failure would have failed the whole verification. The promise is
// checked again only when sigstore-go reported fewer log timestamps than
// there are promises, so the common case costs no cryptography.
func (v *Verifier) logEntries(b verify.TlogEntryProvider, res *verify.VerificationResult) []LogEntry {
	entries, err := b.TlogEntries()
	if err != nil {
		return nil
	}
	logs := v.material.RekorLogs()
	known := entries[:0:0]
	promises := 0
	for _, e := range entries {
		if _, ok := logs[hex.EncodeToString([]byte(e.LogKeyID()))]; ok {
			known = append(known, e)
			if e.HasInclusionPromise() {
				promises++
			}
		}
	}
	logTimestamps := 0
	for _, ts := range res.VerifiedTimestamps {
		if ts.Type == "Tlog" {
			logTimestamps++
		}
	}
	recheck := logTimestamps < promises
	out := make([]LogEntry, 0, len(known))
	for _, e := range known {
		if recheck && e.HasInclusionPromise() && tlog.VerifySET(e, logs) != nil {
			continue
		}
		id := hex.EncodeToString([]byte(e.LogKeyID()))
		out = append(out, LogEntry{LogURL: logs[id].BaseURL, LogID: id, Index: e.LogIndex(), IntegratedTime: e.IntegratedTime().UTC()})
	}
	return out
}

// checkKindVersion binds each log entry's declared kind and version to its
// logged body. sigstore-go verifies the body but takes the declared
// kindVersion as given, so without this check that field is malleable.
func checkKindVersion(b *bundle.Bundle) error {
	for i, e := range b.GetVerificationMaterial().GetTlogEntries() {
		var body struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal(e.GetCanonicalizedBody(), &body); err != nil {
			return fmt.Errorf("transparency-log entry %d: the logged body is not JSON", i)
		}
		kv := e.GetKindVersion()
		if kv.GetKind() != body.Kind || kv.GetVersion() != body.APIVersion {
			return fmt.Errorf("transparency-log entry %d declares %s %s but the logged body is %s %s",
				i, kv.GetKind(), kv.GetVersion(), body.Kind, body.APIVersion)
		}
	}
	return nil
}

// classify maps a sigstore-go verification error to a Code. sigstore-go
// v1.3.0 wraps each stage's error with a fixed prefix; an unknown one maps to
// CodeSigstore, so a change there degrades the code, never the verdict.
func classify(err error) (Code, string) {
	msg := err.Error()
	stages := []struct {
		prefix string
		code   Code
	}{
		{"failed to verify log inclusion", CodeTransparencyLog},
		{"failed to verify timestamps", CodeTimestamp},
		{"failed to verify leaf certificate", CodeCertificate},
		{"failed to verify signed certificate timestamp", CodeSCT},
		{"failed to verify signature", CodeSignature},
		{"failed to fetch envelope statement", CodeStatementMalformed},
	}
	for _, s := range stages {
		if strings.HasPrefix(msg, s.prefix) {
			return s.code, msg
		}
	}
	return CodeSigstore, msg
}
