package trustdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"
)

// Marshal encodes tr as a trusted_root.json document, indented, in one
// canonical order, so that one trusted root always gives the same bytes
// (and the same trustroot Info.Digest once read back). The caller checks
// that the result loads again (condasigs trust-root export reads it with
// trustroot.FromJSON).
func Marshal(tr *root.TrustedRoot) ([]byte, error) {
	raw, err := tr.MarshalJSON()
	if err == nil {
		raw, err = canonicalTrustedRoot(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("trustroot: encoding the trusted root: %w", err)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("trustroot: encoding the trusted root: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// canonicalTrustedRoot orders the logs and authorities of a trusted root
// totally (sigstore-go orders them by validity start only, and logs come
// from a map), so that one root always exports to the same bytes.
func canonicalTrustedRoot(raw []byte) ([]byte, error) {
	pb, err := root.NewTrustedRootProtobuf(raw)
	if err != nil {
		return nil, err
	}
	sortLogs := func(logs []*prototrustroot.TransparencyLogInstance) {
		sort.SliceStable(logs, func(i, j int) bool {
			a, b := logs[i], logs[j]
			as, bs := a.GetPublicKey().GetValidFor().GetStart().AsTime(), b.GetPublicKey().GetValidFor().GetStart().AsTime()
			if !as.Equal(bs) {
				return as.Before(bs)
			}
			if c := bytes.Compare(a.GetLogId().GetKeyId(), b.GetLogId().GetKeyId()); c != 0 {
				return c < 0
			}
			return a.GetBaseUrl() < b.GetBaseUrl()
		})
	}
	sortCAs := func(cas []*prototrustroot.CertificateAuthority) {
		first := func(ca *prototrustroot.CertificateAuthority) []byte {
			if certs := ca.GetCertChain().GetCertificates(); len(certs) > 0 {
				return certs[0].GetRawBytes()
			}
			return nil
		}
		sort.SliceStable(cas, func(i, j int) bool {
			a, b := cas[i], cas[j]
			as, bs := a.GetValidFor().GetStart().AsTime(), b.GetValidFor().GetStart().AsTime()
			if !as.Equal(bs) {
				return as.Before(bs)
			}
			if a.GetUri() != b.GetUri() {
				return a.GetUri() < b.GetUri()
			}
			return bytes.Compare(first(a), first(b)) < 0
		})
	}
	sortLogs(pb.Tlogs)
	sortLogs(pb.Ctlogs)
	sortCAs(pb.CertificateAuthorities)
	sortCAs(pb.TimestampAuthorities)
	return protojson.Marshal(pb)
}
