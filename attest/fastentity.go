package attest

import (
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// onceEntity is a parsed bundle, as sigstore-go's verify.SignedEntity, that
// parses its transparency-log entries and its certificate once per
// verification instead of at every call: sigstore-go asks for the
// certificate twice (log entries, then the chain) and attest asks for the
// entries again for the evidence, and the Rekor v1 entry body is costly to
// decode.
//
// Exact: bundle.Bundle computes both from its protobuf message alone, which
// nothing changes during a verification, so every call returns what the
// first did. The only state sigstore-go changes is on the parsed leaf
// certificate (it drops the SAN OID from UnhandledCriticalExtensions before
// path validation), after its last use in the log-entry check, which reads
// only the public key and validity; attest's checks after Verify read the
// verification result, not the certificate. An onceEntity serves one
// verification by one goroutine.
type onceEntity struct {
	*bundle.Bundle

	entriesDone bool
	entries     []*tlog.Entry
	entriesErr  error

	contentDone bool
	content     verify.VerificationContent
	contentErr  error
}

// TlogEntries is bundle.Bundle.TlogEntries, computed once.
func (e *onceEntity) TlogEntries() ([]*tlog.Entry, error) {
	if !e.entriesDone {
		e.entries, e.entriesErr = e.Bundle.TlogEntries()
		e.entriesDone = true
	}
	return e.entries, e.entriesErr
}

// VerificationContent is bundle.Bundle.VerificationContent, computed once.
func (e *onceEntity) VerificationContent() (verify.VerificationContent, error) {
	if !e.contentDone {
		e.content, e.contentErr = e.Bundle.VerificationContent()
		e.contentDone = true
	}
	return e.content, e.contentErr
}

// parse parses one bundle as parseBundle does, and returns it as the
// entity sigstore-go verifies: on the fast path, an onceEntity.
func (v *Verifier) parse(raw []byte) (verify.SignedEntity, *bundle.Bundle, Code, error) {
	if v.fast {
		if e := parseOnce(raw); e != nil {
			return e, e.Bundle, "", nil
		}
	}
	b, code, err := parseBundle(raw)
	if err != nil {
		return nil, nil, code, err
	}
	if v.fast {
		return &onceEntity{Bundle: b}, b, "", nil
	}
	return b, b, "", nil
}

// parseOnce parses raw into an onceEntity whose log entries are decoded
// once, not twice: bundle.Bundle.UnmarshalJSON decodes them to validate
// the bundle and drops them, and sigstore-go decodes them again to verify
// them. It returns nil whenever it cannot tell, and parseBundle decides.
//
// Exact: it unmarshals the protobuf as UnmarshalJSON does, has
// bundle.NewBundle validate it with the log entries set aside (version,
// content, verification material, certificate chain rules: none of these
// reads the entries), then decodes the entries with Bundle.TlogEntries, as
// validate does, and applies validate's two rules about them: a v0.1
// bundle's entries need an inclusion promise, a later one's an inclusion
// proof. Those are all of validate's checks, so whenever parseOnce returns
// a bundle, UnmarshalJSON accepts the same bytes and yields the same
// bundle (the same message, the same inclusion flags, set by TlogEntries).
// It also applies parseBundle's own rules (versions v0.1 to v0.3, a DSSE
// envelope). Revisit with every sigstore-go upgrade: a new rule in
// validate must be added here.
func parseOnce(raw []byte) *onceEntity {
	pb := new(protobundle.Bundle)
	if protojson.Unmarshal(raw, pb) != nil {
		return nil
	}
	vm := pb.GetVerificationMaterial()
	if vm == nil || pb.GetDsseEnvelope() == nil {
		return nil
	}
	set := vm.TlogEntries
	vm.TlogEntries = nil
	b, err := bundle.NewBundle(pb)
	vm.TlogEntries = set
	if err != nil {
		return nil
	}
	version, err := b.Version()
	if err != nil || version != "v0.1" && version != "v0.2" && version != "v0.3" {
		return nil
	}
	entries, err := b.TlogEntries()
	if err != nil {
		return nil
	}
	if len(entries) > 0 && (version == "v0.1" && !b.HasInclusionPromise() || version != "v0.1" && !b.HasInclusionProof()) {
		return nil
	}
	return &onceEntity{Bundle: b, entriesDone: true, entries: entries}
}
