package attest

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/condasigs/condasigs/internal/textsafe"
)

// explain classifies a sigstore-go verification error and, when the bundle
// relies on a transparency log, CA or timestamping authority that the
// trusted material does not list (a bundle of another Sigstore instance,
// the wrong trusted root), says which, by ID or name, instead of a bare
// "0 < 1". The Code stays classify's.
func (v *Verifier) explain(b *bundle.Bundle, err error) (Code, string) {
	code, msg := classify(err)
	switch code {
	case CodeTransparencyLog, CodeTimestamp, CodeCertificate, CodeSCT, CodeSigstore:
	default:
		return code, msg
	}
	missing := v.missingTrust(b)
	if len(missing) == 0 {
		return code, msg
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	return code, fmt.Sprintf("the bundle's %s %s not in %s: use the trusted root of the Sigstore instance that signed it (%s)",
		joinAnd(missing), verb, v.trustRootName(), msg)
}

// trustRootName names the trusted material in messages.
func (v *Verifier) trustRootName() string {
	switch {
	case v.TrustRootName != "":
		return "the trusted root (" + v.TrustRootName + ")"
	case v.parent != nil && v.parent.TrustRootName != "":
		return "the trusted root of the instance that issued the certificate (of " + v.parent.TrustRootName + ")"
	case v.parent != nil:
		return "the trusted root of the instance that issued the certificate"
	}
	return "the trusted root"
}

// setName is " (" + TrustRootName + ")" of a set, or "".
func (v *Verifier) setName() string {
	if v.TrustRootName == "" {
		return ""
	}
	return " (" + v.TrustRootName + ")"
}

// missingTrust lists what b relies on that v's trusted material does not
// list: its transparency logs (when none of them is listed), its
// certificate's CA, and the TSAs of its RFC 3161 timestamps (when none of
// them is listed).
func (v *Verifier) missingTrust(b *bundle.Bundle) []string {
	var missing []string
	if logs := v.unknownLogs(b); len(logs) > 0 {
		missing = append(missing, logs...)
	}
	if vc, err := b.VerificationContent(); err == nil {
		if leaf := vc.Certificate(); leaf != nil && !issuedBy(leaf, v.material) {
			what := fmt.Sprintf("certificate's CA (issuer %s", textsafe.Quote(leaf.Issuer.String()))
			if len(leaf.AuthorityKeyId) > 0 {
				what += ", key ID " + hexID(leaf.AuthorityKeyId)
			}
			missing = append(missing, what+")")
		}
	}
	if tsas := v.unknownTSAs(b); len(tsas) > 0 {
		missing = append(missing, tsas...)
	}
	return missing
}

// unknownLogs names the bundle's transparency-log entries' logs, by key ID
// (and checkpoint origin, for Rekor v2), when the trusted material lists
// none of them.
func (v *Verifier) unknownLogs(b *bundle.Bundle) []string {
	entries := b.GetVerificationMaterial().GetTlogEntries()
	if len(entries) == 0 || len(entries) > maxExplained {
		return nil
	}
	logs := v.material.RekorLogs()
	var out []string
	for _, e := range entries {
		id := hex.EncodeToString(e.GetLogId().GetKeyId())
		if _, ok := logs[id]; ok || id == "" {
			return nil // a listed log (the failure is another one), or none named
		}
		what := "transparency log " + hexID(e.GetLogId().GetKeyId())
		if origin := checkpointOrigin(e.GetInclusionProof().GetCheckpoint().GetEnvelope()); origin != "" {
			what += " (" + textsafe.Quote(origin) + ")"
		}
		out = append(out, what)
	}
	return out
}

// maxExplained bounds the entries and timestamps looked at: a bundle with
// more is not a mistaken trusted root.
const maxExplained = 8

// checkpointOrigin is the first line of a checkpoint: the log's origin,
// e.g. "log2025-1.rekor.sigstore.dev".
func checkpointOrigin(envelope string) string {
	origin, _, ok := strings.Cut(envelope, "\n")
	if !ok || len(origin) > 256 {
		return ""
	}
	return origin
}

// unknownTSAs names the signers of the bundle's RFC 3161 timestamps when
// the trusted material lists none of them.
func (v *Verifier) unknownTSAs(b *bundle.Bundle) []string {
	tss := b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()
	if len(tss) == 0 || len(tss) > maxExplained {
		return nil
	}
	tsas := v.material.TimestampingAuthorities()
	var out []string
	for _, ts := range tss {
		s, ok := timestampSigner(ts.GetSignedTimestamp())
		if !ok {
			return nil // unparseable: sigstore-go's message says more
		}
		for _, tsa := range tsas {
			if s.signedBy(tsa) {
				return nil
			}
		}
		out = append(out, "timestamp's TSA ("+s.String()+")")
	}
	return out
}

// signer identifies the signer of an RFC 3161 timestamp token, as its
// SignerInfo does, and by its certificate when the token carries it.
type signer struct {
	issuer []byte   // DER Name of the signing certificate's issuer
	serial *big.Int // its serial number
	keyID  []byte   // or its subject key identifier
	cert   *x509.Certificate
}

func (s signer) String() string {
	if s.cert != nil {
		return "subject " + textsafe.Quote(s.cert.Subject.String()) + ", issuer " + textsafe.Quote(s.cert.Issuer.String())
	}
	if s.issuer != nil {
		var name pkix.RDNSequence
		if _, err := asn1.Unmarshal(s.issuer, &name); err == nil {
			return "certificate issued by " + textsafe.Quote(name.String()) + ", serial " + serialText(s.serial)
		}
	}
	return "key ID " + hexID(s.keyID)
}

// maxIDBytes bounds the bytes of an ID or serial number a message shows:
// they are the bundle's, which may make them as long as itself.
const maxIDBytes = 32

// hexID is b in hex, clipped to maxIDBytes bytes.
func hexID(b []byte) string {
	if len(b) > maxIDBytes {
		return hex.EncodeToString(b[:maxIDBytes]) + "..."
	}
	return hex.EncodeToString(b)
}

// serialText is a certificate serial number in decimal, or, when longer
// than any CA issues (RFC 5280: 20 bytes), clipped in hex: decimal
// conversion takes time quadratic in the length.
func serialText(n *big.Int) string {
	if n.BitLen() <= 8*maxIDBytes {
		return n.String()
	}
	return "0x" + hexID(n.Bytes())
}

// signedBy reports whether the token's signing certificate is one of
// tsa's, or was issued by one of them (by key identifier), compared by
// key or serial number rather than by name: test and staging authorities
// share names with the public-good one.
func (s signer) signedBy(tsa root.TimestampingAuthority) bool {
	sta, ok := tsa.(*root.SigstoreTimestampingAuthority)
	if !ok {
		return true // an authority we cannot inspect: let sigstore-go decide
	}
	for _, c := range append([]*x509.Certificate{sta.Leaf, sta.Root}, sta.Intermediates...) {
		if c == nil {
			continue
		}
		switch {
		case s.cert != nil && bytes.Equal(s.cert.Raw, c.Raw):
			return true
		case s.cert != nil && len(s.cert.AuthorityKeyId) > 0 && bytes.Equal(s.cert.AuthorityKeyId, c.SubjectKeyId):
			return true
		case s.keyID != nil && bytes.Equal(s.keyID, c.SubjectKeyId):
			return true
		case s.issuer != nil && s.serial != nil && bytes.Equal(s.issuer, c.RawIssuer) && s.serial.Cmp(c.SerialNumber) == 0:
			return true
		}
	}
	return false
}

// timestampSigner reads the signer of an RFC 3161 timestamp token (or of
// the token in a TimeStampResp): a CMS
// ContentInfo holding SignedData (RFC 5652), whose first SignerInfo names
// the signing certificate by issuer and serial number or by key
// identifier; the token may carry that certificate.
func timestampSigner(der []byte) (signer, bool) {
	// Bundles carry either the token or the whole TimeStampResp
	// (RFC 3161: a status, then the token).
	var outer asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) != 0 || outer.Tag != asn1.TagSequence {
		return signer{}, false
	}
	if parts, ok := elements(outer.Bytes); ok && len(parts) == 2 && parts[0].Tag == asn1.TagSequence && parts[1].Tag == asn1.TagSequence {
		der = parts[1].FullBytes
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		return signer{}, false
	}
	var sd asn1.RawValue
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || sd.Tag != asn1.TagSequence {
		return signer{}, false
	}
	fields, ok := elements(sd.Bytes)
	if !ok || len(fields) < 4 {
		return signer{}, false
	}
	infos, ok := elements(fields[len(fields)-1].Bytes)
	if !ok || len(infos) == 0 {
		return signer{}, false
	}
	info, ok := elements(infos[0].Bytes)
	if !ok || len(info) < 2 {
		return signer{}, false
	}
	var s signer
	switch sid := info[1]; {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias struct {
			Issuer asn1.RawValue
			Serial *big.Int
		}
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
			return signer{}, false
		}
		s.issuer, s.serial = ias.Issuer.FullBytes, ias.Serial
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		s.keyID = sid.Bytes
	default:
		return signer{}, false
	}
	for _, f := range fields[3 : len(fields)-1] {
		if f.Class != asn1.ClassContextSpecific || f.Tag != 0 { // certificates
			continue
		}
		certs, _ := elements(f.Bytes)
		for _, raw := range certs {
			c, err := x509.ParseCertificate(raw.FullBytes)
			if err != nil {
				continue
			}
			if (s.keyID != nil && bytes.Equal(s.keyID, c.SubjectKeyId)) ||
				(s.issuer != nil && bytes.Equal(s.issuer, c.RawIssuer) && s.serial.Cmp(c.SerialNumber) == 0) {
				s.cert = c
			}
		}
	}
	return s, true
}

// elements splits DER content into its elements.
func elements(b []byte) ([]asn1.RawValue, bool) {
	var out []asn1.RawValue
	for len(b) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(b, &rv)
		if err != nil || len(out) >= 64 {
			return nil, false
		}
		out = append(out, rv)
		b = rest
	}
	return out, true
}

// joinAnd joins items as "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
