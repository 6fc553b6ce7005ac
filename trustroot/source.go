package trustroot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/condasigs/condasigs/internal/localfile"
)

// Source provides trusted material. Implementations are safe for
// concurrent use.
type Source interface {
	// Snapshot returns the current trusted material. A Snapshot never
	// changes: a refresh produces a new one, so a verification that holds a
	// Snapshot is not affected by a refresh in the middle of it. Return the
	// same pointer until the material changes: verifiers cache what they
	// build from a Snapshot by its address.
	Snapshot(ctx context.Context) (*Snapshot, error)
}

// Snapshot is trusted material and where it came from.
type Snapshot struct {
	// Material is what bundles are verified against.
	Material root.TrustedMaterial
	// Info describes the material's origin, for reports.
	Info Info
}

// Info describes where trusted material came from.
type Info struct {
	// Kind is "file", "json", "tuf" or "static".
	Kind string `json:"kind"`
	// Source is the file path or TUF repository URL.
	Source string `json:"source,omitempty"`
	// LoadedAt is when the material was read or last refreshed; for
	// material read from a TUF cache, when the cache was last updated. It
	// is zero when that is not known (see AgeUnknown).
	LoadedAt time.Time `json:"loadedAt"`
	// AgeUnknown, when not empty, says why the age of TUF material is not
	// known: it was read from a TUF cache whose record of its last update
	// is missing, unreadable, or does not match the cached timestamp
	// metadata. LoadedAt is then zero. Such material is only as fresh as
	// Expires guarantees: condasigs warns about it, and refuses it when a
	// maximum age is set.
	AgeUnknown string `json:"ageUnknown,omitempty"`
	// FromCache is true when a TUF source's material came from its cache
	// without a successful update (offline, or the repository unreachable).
	FromCache bool `json:"fromCache,omitempty"`
	// Expires is when the TUF metadata this material was checked with
	// expires: the earliest signed expiry of its root, timestamp, snapshot
	// and targets metadata; zero for material that is not from TUF. Past
	// it, the material must be refreshed before it is used again.
	Expires time.Time `json:"expires,omitzero"`
	// Digest identifies the material exactly: "sha256:" and the hex SHA-256
	// of the trusted_root.json document (for a set, of its members'
	// digests). It is empty for material built in memory (NewStatic),
	// whose bytes are not known; caches keyed by the trusted root then
	// stay unused.
	Digest string `json:"digest,omitempty"`
}

// static is a Source whose material never changes.
type static struct {
	snap *Snapshot
}

// Snapshot returns the material.
func (s *static) Snapshot(context.Context) (*Snapshot, error) { return s.snap, nil }

// NewStatic wraps trusted material built elsewhere, such as a
// root.TrustedMaterialCollection of several instances or a test's virtual
// Sigstore, as a Source whose material never changes.
func NewStatic(tm root.TrustedMaterial, source string) Source {
	return &static{snap: &Snapshot{Material: tm, Info: Info{Kind: "static", Source: source, LoadedAt: time.Now().UTC()}}}
}

// FromFile reads a trusted_root.json file, as a Source whose material
// never changes. No network is used.
//
// With more than one path it reads several instances at once (the
// public-good one, a private one, GitHub's): each bundle is then verified
// against the one instance whose CA issued its certificate, never against a
// pool of all of them, so a certificate of one instance with a log entry of
// another does not verify. On its own a trusted root must list a
// transparency log; beside others, one without (GitHub's) is accepted.
func FromFile(path string, more ...string) (Source, error) {
	if len(more) > 0 {
		return fromFiles(append([]string{path}, more...))
	}
	b, err := readRootFile(path)
	if err != nil {
		return nil, err
	}
	tr, err := parseSingleRoot(b)
	if err != nil {
		return nil, fmt.Errorf("trustroot: %s: %w", path, err)
	}
	return &static{snap: &Snapshot{Material: tr, Info: Info{Kind: "file", Source: path, LoadedAt: time.Now().UTC(), Digest: digestOf(b)}}}, nil
}

// FromJSON parses a trusted_root.json document, as a Source whose material
// never changes.
func FromJSON(b []byte) (Source, error) {
	tr, err := parseSingleRoot(b)
	if err != nil {
		return nil, fmt.Errorf("trustroot: %w", err)
	}
	return &static{snap: &Snapshot{Material: tr, Info: Info{Kind: "json", LoadedAt: time.Now().UTC(), Digest: digestOf(b)}}}, nil
}

// parseTrustedRoot parses a trusted_root.json and refuses one that no
// attestation could verify against.
func parseTrustedRoot(b []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		if what := tufMetadata(b); what != "" {
			return nil, errors.New(what)
		}
		return nil, fmt.Errorf("not a valid trusted_root.json: %w", err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 {
		return nil, errors.New("the trusted root lists no Fulcio certificate authority, so no attestation could verify")
	}
	return tr, nil
}

// parseSingleRoot parses a trusted root meant to be used on its own, which
// must list a transparency log.
func parseSingleRoot(b []byte) (*root.TrustedRoot, error) {
	tr, err := parseTrustedRoot(b)
	if err == nil && len(tr.RekorLogs()) == 0 {
		err = errNoLogs
	}
	return tr, err
}

// errNoLogs refuses a trusted root without transparency logs on its own.
// Beside other roots it is accepted (GitHub's instance has none);
// bundles of such an instance still fail for want of a log entry.
var errNoLogs = errors.New("the trusted root lists no transparency log: CEP 27 requires every attestation to be logged, so none could verify against it")

// maxRootFile caps what is read of a trusted_root.json file: 16 MiB, a
// thousand times the public-good one.
const maxRootFile = 16 << 20

// readRootFile reads the trusted_root.json file at path, under the cap,
// without blocking on a FIFO or reading a device (a pipe, as bash's <(...)
// gives, is read as its writer writes it).
func readRootFile(path string) ([]byte, error) {
	b, err := localfile.ReadFile(path, maxRootFile)
	if errors.Is(err, localfile.ErrTooLarge) {
		return nil, fmt.Errorf("trustroot: %s is larger than 16 MiB, far more than a trusted_root.json (a few KiB): check the path", path)
	}
	if err != nil {
		return nil, fmt.Errorf("trustroot: reading the trusted root: %w", err)
	}
	return b, nil
}
