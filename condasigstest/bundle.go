package condasigstest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

const bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// assemble turns a VirtualSigstore test entity into a bundle v0.3 document,
// checked by sigstore-go's bundle validation. With log set, the entity's
// log entry is replaced by one of log's log for the same signature.
func (s *Sigstore) assemble(e *ca.TestEntity, log *Sigstore) ([]byte, error) {
	vc, err := e.VerificationContent()
	if err != nil {
		return nil, err
	}
	cert := vc.Certificate()
	sc, err := e.SignatureContent()
	if err != nil {
		return nil, err
	}
	env := sc.EnvelopeContent()
	if cert == nil || env == nil {
		return nil, errors.New("the entity has no certificate or no DSSE envelope")
	}
	pbEnv, err := envelope(env)
	if err != nil {
		return nil, err
	}
	entries, err := e.TlogEntries()
	if err != nil {
		return nil, err
	}
	logger := s
	if log != nil {
		logger = log
		sig := env.RawEnvelope().Signatures[0].Sig
		rawSig, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			return nil, err
		}
		entry, err := log.vs.GenerateTlogEntry(cert, env.RawEnvelope(), rawSig, entries[0].IntegratedTime().Unix(), true)
		if err != nil {
			return nil, err
		}
		entries = []*tlog.Entry{entry}
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{
			Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
		TimestampVerificationData: &protobundle.TimestampVerificationData{},
	}
	for _, entry := range entries {
		tle, err := logger.completeEntry(entry)
		if err != nil {
			return nil, err
		}
		vm.TlogEntries = append(vm.TlogEntries, tle)
	}
	tsrs, err := e.Timestamps()
	if err != nil {
		return nil, err
	}
	for _, tsr := range tsrs {
		vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps,
			&protocommon.RFC3161SignedTimestamp{SignedTimestamp: tsr})
	}
	b, err := bundle.NewBundle(&protobundle.Bundle{
		MediaType:            bundleMediaType,
		VerificationMaterial: vm,
		Content:              &protobundle.Bundle_DsseEnvelope{DsseEnvelope: pbEnv},
	})
	if err != nil {
		return nil, err
	}
	return b.MarshalJSON()
}

// envelope converts a DSSE envelope (base64 fields) to its protobuf form
// (raw bytes).
func envelope(env verify.EnvelopeContent) (*protodsse.Envelope, error) {
	raw := env.RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(raw.Payload)
	if err != nil {
		return nil, fmt.Errorf("decoding the DSSE payload: %w", err)
	}
	out := &protodsse.Envelope{Payload: payload, PayloadType: raw.PayloadType}
	for _, sig := range raw.Signatures {
		b, err := base64.StdEncoding.DecodeString(sig.Sig)
		if err != nil {
			return nil, fmt.Errorf("decoding the DSSE signature: %w", err)
		}
		out.Signatures = append(out.Signatures, &protodsse.Signature{Sig: b, Keyid: sig.KeyID})
	}
	return out, nil
}

// completeEntry copies the entry's protobuf and adds what tlog.NewEntry
// leaves out: the kind and version, and the inclusion promise (a SET signed
// again with the log's key over the same payload).
func (s *Sigstore) completeEntry(entry *tlog.Entry) (*protorekor.TransparencyLogEntry, error) {
	src := entry.TransparencyLogEntry()
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(src.GetCanonicalizedBody(), &kv); err != nil {
		return nil, fmt.Errorf("reading the entry's kind: %w", err)
	}
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(src.GetCanonicalizedBody()),
		IntegratedTime: src.GetIntegratedTime(),
		LogIndex:       src.GetLogIndex(),
		LogID:          hex.EncodeToString(src.GetLogId().GetKeyId()),
	})
	if err != nil {
		return nil, err
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          src.GetLogIndex(),
		LogId:             src.GetLogId(),
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    src.GetIntegratedTime(),
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof:    src.GetInclusionProof(),
		CanonicalizedBody: src.GetCanonicalizedBody(),
	}, nil
}
