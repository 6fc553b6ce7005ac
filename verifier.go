package condasigs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/verdictcache"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Options configure a Verifier.
type Options struct {
	// Trust supplies the trusted material. Required.
	Trust trustroot.Source
	// Policy decides the verdict for packages of every channel. It must
	// name at least one trusted identity; see policy.Policy. Set Policy or
	// Config, not both.
	Policy policy.Policy
	// Config holds per-channel policies, e.g. from policy.LoadConfig.
	Config *policy.Config
	// PinStore, if set, holds the pinned signers of packages whose channel
	// policy pins (policy.Policy.Pinning). Verify reads it; with LearnPins it
	// also records the signer of a package seen for the first time (call
	// PinStore.Save to keep them).
	PinStore  *policy.PinStore
	LearnPins bool
	// TrustRootWarnAge and TrustRootMaxAge bound the age of a TUF trusted
	// root (since its last successful update; see trustroot.Info): older
	// than TrustRootWarnAge, reports carry a warning; older than
	// TrustRootMaxAge, Verify fails with ErrTrustRootStale. Zero means the
	// defaults, 7 days and no hard limit; negative turns a check off. A
	// root past its TUF metadata's expiry is never used. Roots read from a
	// file have no known age: pin and replace those yourself.
	TrustRootWarnAge time.Duration
	TrustRootMaxAge  time.Duration
	// Fetcher retrieves sidecars. Nil means fetch.New(fetch.Options{}):
	// http(s) only, 4 MiB cap, retries. Give it a fetch.Options.Cache to
	// keep sidecars between runs.
	Fetcher *fetch.Client
	// Records gives the records of packages whose Record is left empty,
	// and of lock-file entries (VerifyLocked). Nil means the Fetcher, which
	// reads each channel's repodata.json (with its repodata cache); a
	// package manager that keeps repodata itself supplies its own.
	Records fetch.RecordSource
	// VerdictCache, if set, keeps the evidence of every verified sidecar,
	// keyed by everything it depends on: the sidecar's and the package's
	// SHA-256, the file name, the channel, the policy's and the trusted
	// root's digests, and the versions of this library and sigstore-go.
	// A package whose key is cached is decided from the cached evidence,
	// with no sidecar request and no cryptography; the policy (pins, the
	// trusted root's age) is applied afresh each time. Retrieval failures
	// are never cached, and a corrupt entry is ignored and rebuilt. Only
	// trusted material with a known digest (trustroot.Info.Digest) is
	// cached. Whoever can write the cache can forge verdicts: use a
	// fetch.NewDirCache, which creates its directory private (0700) and
	// refuses one that others could write or replace.
	VerdictCache fetch.Cache
	// Logger receives debug records, their text escaped as EscapeText
	// does before its handler sees them. Nil discards them.
	Logger *slog.Logger
}

// Verifier verifies packages. Build it once; it is safe for concurrent use.
type Verifier struct {
	warnAge    time.Duration // 0: off
	maxAge     time.Duration // 0: off
	trust      trustroot.Source
	rules      *policy.CompiledConfig
	pins       *policy.PinStore
	recordPins bool
	fetcher    *fetch.Client
	records    fetch.RecordSource
	verdicts   *verdictcache.Cache // nil: none
	log        *slog.Logger

	// policyDigest is the SHA-256 of the configuration rules was
	// compiled from, which keys the verdict cache.
	policyDigest string

	mu       sync.Mutex
	snapshot *trustroot.Snapshot // the snapshot attest was built for
	attest   *attest.Verifier

	channels sync.Map // channel URL → channelInfo, see channel
	nChans   atomic.Int64
}

// channelInfo is what start needs of a channel, the same for all its
// packages.
type channelInfo struct {
	match    policy.Match
	redacted string
}

// maxChannelMemo bounds the channels whose policy match is remembered.
const maxChannelMemo = 1024

// channel returns the policy match and the printable URL of a channel,
// remembered for the first maxChannelMemo channels.
func (v *Verifier) channel(url string) (channelInfo, error) {
	if ci, ok := v.channels.Load(url); ok {
		return ci.(channelInfo), nil
	}
	m, err := v.rules.For(url)
	if err != nil {
		return channelInfo{}, err
	}
	ci := channelInfo{match: m, redacted: conda.Redact(url)}
	if v.nChans.Load() < maxChannelMemo {
		if _, loaded := v.channels.LoadOrStore(url, ci); !loaded {
			v.nChans.Add(1)
		}
	}
	return ci, nil
}

// New checks opts and returns a Verifier.
func New(opts Options) (*Verifier, error) {
	if opts.Trust == nil {
		return nil, errors.New("condasigs: Options.Trust is nil: load a trusted root with trustroot.FromFile or trustroot.NewTUF")
	}
	cfg := opts.Config
	switch {
	case cfg != nil && (opts.Policy.Require != "" || opts.Policy.Identities != nil):
		return nil, errors.New("condasigs: set Options.Policy or Options.Config, not both")
	case cfg == nil:
		cfg = &policy.Config{Default: &policy.ChannelPolicy{Enabled: true, Policy: opts.Policy}}
	}
	rules, err := policy.CompileConfig(*cfg)
	if err != nil {
		return nil, fmt.Errorf("condasigs: policy: %w", err)
	}
	f := opts.Fetcher
	if f == nil {
		f = fetch.New(fetch.Options{Logger: opts.Logger})
	}
	log := textsafe.Logger(opts.Logger)
	records := opts.Records
	if records == nil {
		records = f
	}
	return &Verifier{trust: opts.Trust, rules: rules, policyDigest: configDigest(*cfg), pins: opts.PinStore, recordPins: opts.LearnPins, fetcher: f, records: records, log: log,
		verdicts: openVerdicts(opts.VerdictCache, log),
		warnAge:  ageLimit(opts.TrustRootWarnAge, defaultTrustRootWarnAge), maxAge: ageLimit(opts.TrustRootMaxAge, 0)}, nil
}

// fetchKind returns the Kind of the fetch failure in err's chain, or ""
// when err is not one.
func fetchKind(err error) fetch.Kind {
	var fe *fetch.Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return ""
}

// defaultTrustRootWarnAge is the default Options.TrustRootWarnAge.
const defaultTrustRootWarnAge = 7 * 24 * time.Hour

// ErrTrustRootStale is returned by Verify when the trusted root is past
// Options.TrustRootMaxAge or its TUF metadata has expired.
var ErrTrustRootStale = errors.New("condasigs: the trusted root is stale")

func ageLimit(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

// Verify fetches and verifies the attestations of pkg and applies the
// policy. Policy outcomes, including every retrieval and verification
// failure, are data in the Report; the error is non-nil only for misuse
// (an incomplete Package), cancellation of ctx, or an unusable trust root.
func (v *Verifier) Verify(ctx context.Context, pkg Package) (*Report, error) {
	pkgs, locks := []Package{pkg}, []*lockState{nil}
	v.readRecords(ctx, pkgs, locks, 1)
	j, err := v.start(ctx, pkgs[0], locks[0])
	if err != nil || j.done {
		return j.rep, err
	}
	if err := v.retrieve(ctx, j, v.fetchSidecar); err != nil {
		return nil, err
	}
	return v.finish(ctx, j)
}

// job is one package's verification in progress: start prepares it,
// retrieve fetches its sidecar (network), finish verifies and decides (CPU).
type job struct {
	pkg       Package
	lock      *lockState // what was found before verification, or nil
	urlSubdir string     // the subdir of pkg.URL
	rep       *Report
	done      bool // rep is final
	av        *attest.Verifier
	match     policy.Match
	digest    string
	// rootStale and rootAgeUnknown are the trusted root's age warnings.
	rootStale, rootAgeUnknown error
	in                        policy.Input
	fetched                   bool // sidecar holds the retrieved bytes, not yet verified
	sidecar                   []byte
	// name is the package name of the file name, which pins are keyed by.
	name string
	// inconsistent is why the record contradicts its file name.
	inconsistent error
	// verdict is the job's handle to the verdict cache; nil when its
	// verdict is not cached.
	verdict *verdictcache.Handle
}

// sidecarFetcher retrieves a job's sidecar.
type sidecarFetcher func(ctx context.Context, pkg Package) ([]byte, error)

func (v *Verifier) fetchSidecar(ctx context.Context, pkg Package) ([]byte, error) {
	sc, err := v.fetcher.FetchSidecar(ctx, pkg.URL, pkg.Record)
	if err != nil {
		return nil, err
	}
	return sc.Data, nil
}

// start resolves the package, takes the trust root and the policy entry,
// and settles what needs no sidecar: a disabled channel, an artifact that
// is not the record's.
func (v *Verifier) start(ctx context.Context, pkg Package, lock *lockState) (*job, error) {
	if lock != nil && lock.misuse != nil {
		return &job{}, lock.misuse
	}
	pkg, urlSubdir, err := pkg.resolve()
	if err != nil {
		return &job{}, err
	}
	snap, err := v.trust.Snapshot(ctx)
	if err != nil {
		return &job{}, fmt.Errorf("condasigs: trusted root unavailable: %w", err)
	}
	now := time.Now()
	stale, ageUnknown, err := v.checkAge(snap.Info, now)
	if err != nil {
		return &job{}, err
	}
	av, err := v.attestVerifier(snap)
	if err != nil {
		return &job{}, err
	}
	th := av.Thresholds()
	info := snap.Info
	ci, err := v.channel(pkg.Channel)
	if err != nil {
		return &job{}, fmt.Errorf("condasigs: %w", err)
	}
	rep := &Report{
		Filename:   pkg.Record.Filename,
		Channel:    ci.redacted,
		Subdir:     pkg.Subdir,
		URL:        conda.Redact(pkg.URL),
		Bundles:    []attest.Evidence{},
		TrustRoot:  &info,
		Thresholds: &th,
	}
	if ageKnown(info) {
		rep.TrustRootAge = now.Sub(info.LoadedAt).Round(time.Second).String()
	}
	if lock != nil {
		rep.RecordSource = lock.source
	}
	j := &job{pkg: pkg, lock: lock, urlSubdir: urlSubdir, rep: rep, av: av, rootStale: stale, rootAgeUnknown: ageUnknown}

	j.match = ci.match
	rep.PolicyEntry = j.match.Entry
	if !j.match.Enabled {
		j.done = true
		d := j.match.Decide(policy.Input{})
		rep.Outcome, rep.Status, rep.Reasons = d.Outcome, d.Status, d.Reasons
		return j, nil
	}

	// Pins are keyed by the package name of the file name, which the
	// attestation binds, never by the record's name, which is the
	// channel's word; a record that contradicts its file name is
	// inconsistent.
	fn, err := checkConsistent(pkg.Record)
	if err == nil && pkg.Record.Subdir != "" && pkg.Record.Subdir != urlSubdir {
		// CEP 27 does not bind the subdir: the file of one platform,
		// served under another's directory, would pass.
		err = fmt.Errorf("the record of %s gives subdir %q, but the package URL is in %q", pkg.Record.Filename, pkg.Record.Subdir, urlSubdir)
	}
	j.name, j.inconsistent = fn.Name, err
	if j.name == "" {
		// Not <name>-<version>-<build>.<ext>: no name to pin by, and
		// the record is inconsistent already.
		j.name = pkg.Record.Filename
	}

	in := policy.Input{}
	j.digest, in.ArtifactMismatch = checkArtifact(pkg)
	if lock != nil {
		in.LockMismatch = lock.mismatch
		if lock.artifact != nil {
			in.ArtifactMismatch = lock.artifact
		}
	}
	rep.PackageSHA256 = j.digest
	if in.ArtifactMismatch != nil || in.LockMismatch != nil {
		// Not the package the channel published: no sidecar is needed.
		j.done = true
		d := j.match.Decide(in)
		rep.Outcome, rep.Status, rep.Reasons = d.Outcome, d.Status, d.Reasons
		return j, nil
	}
	j.verdict = v.verdictHandle(j, info.Digest)
	return j, nil
}

// retrieve fetches the job's sidecar, or records why there is none.
func (v *Verifier) retrieve(ctx context.Context, j *job, get sidecarFetcher) error {
	pkg := j.pkg
	if j.lock != nil && j.lock.unavailable != nil {
		j.in = policy.Input{RecordUnavailable: j.lock.unavailable}
		return nil
	}
	if !pkg.Record.HasAttestations() {
		j.in = policy.Input{NotAdvertised: true}
		return nil
	}
	// Built from the redacted package URL: nothing to redact after it.
	if u, err := conda.SidecarURL(j.rep.URL, pkg.Record.AttestationsSHA256); err == nil {
		j.rep.SidecarURL = u
	}
	if j.verdict != nil {
		// A cached verdict never answers for a URL the fetcher refuses.
		if err := v.fetcher.CheckURL(pkg.URL); err != nil {
			return fmt.Errorf("condasigs: %w", err)
		}
		if evs, ok := j.verdict.Lookup(ctx); ok {
			j.rep.Bundles, j.rep.Cached = evs, true
			j.in = policy.Input{Bundles: evs}
			return nil
		}
	}
	data, err := get(ctx, pkg)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("condasigs: %w", ctx.Err())
		}
		switch kind := fetchKind(err); kind {
		case "", fetch.KindInvalidURL:
			// Not the channel's doing: a URL the fetcher cannot use
			// (file:// not allowed, an unsupported scheme) is misuse.
			return fmt.Errorf("condasigs: %w", err)
		default:
			j.in = policy.Input{RetrievalFailure: err, RetrievalFailureCode: policy.Code(kind)}
			return nil
		}
	}
	j.sidecar, j.fetched = data, true
	return nil
}

// finish verifies the fetched sidecar, applies the policy and completes
// the report.
func (v *Verifier) finish(ctx context.Context, j *job) (*Report, error) {
	rep, match := j.rep, j.match
	if j.fetched {
		evs, err := j.av.VerifySidecar(ctx, j.sidecar, attest.Subject{Filename: j.pkg.Record.Filename, SHA256: j.digest, Channel: match.Channel})
		j.sidecar = nil
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, fmt.Errorf("condasigs: %w", ctx.Err())
		case err != nil:
			j.in = policy.Input{RetrievalFailure: err, RetrievalFailureCode: policy.Code(fetch.KindMalformed)}
		default:
			rep.Bundles = evs
			j.in = policy.Input{Bundles: evs}
			if j.verdict != nil {
				j.verdict.Store(ctx, evs)
			}
		}
	}
	in := j.in
	in.Inconsistent = j.inconsistent
	in.TrustRootStale, in.TrustRootAgeUnknown = j.rootStale, j.rootAgeUnknown
	if j.lock != nil {
		in.Unbound, in.Downloaded = j.lock.unbound, j.lock.download
	}
	name := j.name
	if v.pins != nil {
		// Only a policy that pins looks at it.
		if p, ok := v.pins.Get(match.Channel, name); ok {
			in.Pinned = &p
		}
	}
	d := match.Decide(in)
	if v.pins != nil && in.Pinned == nil && v.recordPins && d.PinCandidate != nil {
		// Trust on first use, atomically: if another verification pinned
		// a signer of this package meanwhile, decide against that pin.
		// (A pin candidate comes only from a policy that pins.)
		if existing, loaded := v.pins.SetIfAbsent(match.Channel, name, *d.PinCandidate); loaded {
			in.Pinned = &existing
			d = match.Decide(in)
		}
	}
	rep.Outcome, rep.Status, rep.Reasons = d.Outcome, d.Status, d.Reasons
	if len(d.Accepted) > 0 {
		ev := rep.Bundles[d.Accepted[0]]
		rep.Signer = &Signer{SAN: ev.SAN, Issuer: ev.Issuer, Matched: d.Signers[d.Accepted[0]]}
	}
	if d.PinCandidate != nil {
		rep.Pinning = &PinInfo{Channel: match.Channel, Package: name, Signer: *d.PinCandidate}
	}
	v.log.DebugContext(ctx, "condasigs: verified", "package", rep.Filename, "outcome", rep.Outcome, "status", rep.Status)
	return rep, nil
}

// ageKnown reports whether info's LoadedAt is the age of its material:
// for TUF roots and sets with a TUF member, not for files.
func ageKnown(info trustroot.Info) bool {
	return (info.Kind == "tuf" || info.Kind == "set") && !info.LoadedAt.IsZero() && info.AgeUnknown == ""
}

// checkAge refuses a trusted root past its TUF expiry or the hard age
// (fatal), and says why one is past the warning age (stale) or of unknown
// age, for the policy to warn. Only TUF roots have a known age.
func (v *Verifier) checkAge(info trustroot.Info, now time.Time) (stale, unknown, fatal error) {
	if !info.Expires.IsZero() && now.After(info.Expires) {
		return nil, nil, fmt.Errorf("%w: its TUF metadata expired at %s and no refresh has succeeded since", ErrTrustRootStale, info.Expires.Format(time.RFC3339))
	}
	if info.AgeUnknown != "" {
		// Read from a TUF cache without a trustworthy record of its last
		// update: only its unexpired, signed metadata bound its age.
		if v.maxAge > 0 {
			return nil, nil, fmt.Errorf("%w: its age is unknown (%s), and the limit is %s; update the TUF cache online, or check the network path to %s", ErrTrustRootStale, info.AgeUnknown, v.maxAge, info.Source)
		}
		if v.warnAge > 0 {
			return nil, fmt.Errorf("the age of the trusted root from %s is unknown: %s", info.Source, info.AgeUnknown), nil
		}
		return nil, nil, nil
	}
	if !ageKnown(info) {
		return nil, nil, nil
	}
	age := now.Sub(info.LoadedAt).Round(time.Minute)
	if v.maxAge > 0 && age > v.maxAge {
		return nil, nil, fmt.Errorf("%w: last updated %s ago, more than the limit of %s; check the network path to %s", ErrTrustRootStale, age, v.maxAge, info.Source)
	}
	if v.warnAge > 0 && age > v.warnAge {
		return fmt.Errorf("the trusted root was last updated %s ago (from %s); refreshes are failing", age, info.Source), nil, nil
	}
	return nil, nil, nil
}

// checkArtifact picks the digest the attestations must name and, when the
// caller hashed the package itself, checks it against the record.
func checkArtifact(pkg Package) (string, error) {
	rec := strings.ToLower(pkg.Record.SHA256)
	art := strings.ToLower(pkg.ArtifactSHA256)
	if art == "" {
		return rec, nil
	}
	if rec != "" && rec != art {
		return art, fmt.Errorf("the package bytes hash to %s but repodata lists %s: this is not the package the channel published", art, rec)
	}
	return art, nil
}

// checkConsistent reports whether the record's name, version and build,
// when given, are those of its file name. A record that contradicts its
// file name cannot be trusted about anything: installers and tools key
// packages by name, while the attestation binds the file name.
func checkConsistent(r fetch.Record) (conda.PackageFilename, error) {
	f, err := conda.ParseFilename(r.Filename)
	if err != nil {
		return f, err
	}
	for _, fld := range []struct{ what, rec, file string }{
		{"name", r.Name, f.Name}, {"version", r.Version, f.Version}, {"build", r.Build, f.Build},
	} {
		if fld.rec != "" && fld.rec != fld.file {
			return f, fmt.Errorf("the record of %s gives %s %q, but the file name says %q", r.Filename, fld.what, fld.rec, fld.file)
		}
	}
	return f, nil
}

// attestVerifier returns an attest.Verifier for the snapshot, building a
// new one when a refresh replaced it. Snapshots are immutable, so the
// pointer identifies the material.
func (v *Verifier) attestVerifier(snap *trustroot.Snapshot) (*attest.Verifier, error) {
	if snap == nil || snap.Material == nil {
		return nil, errors.New("condasigs: the trust source returned no trusted material")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.attest != nil && v.snapshot == snap {
		return v.attest, nil
	}
	av, err := attest.NewVerifier(snap.Material)
	if err != nil {
		return nil, fmt.Errorf("condasigs: trusted root unusable: %w", err)
	}
	av.TrustRootName = trustRootName(snap.Info)
	v.snapshot, v.attest = snap, av
	return av, nil
}
