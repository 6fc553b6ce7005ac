package condasigstest

import (
	"crypto/md5" //nolint:gosec // conda's repodata carries an md5 field
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
)

// Channel is one subdir of a conda channel on disk (under t.TempDir()),
// servable over loopback HTTP with [Channel.Serve]. [Channel.WithSubdir]
// adds another subdir of the same channel.
type Channel struct {
	// Dir is the channel's root directory.
	Dir string
	// Subdir is this Channel's subdir, e.g. "linux-64" or "noarch".
	Subdir string
	// Documents lists the repodata documents the subdir's records are
	// written as, by the file names fetch.Options.RecordSources takes:
	// "repodata.json", "repodata.json.zst" and "repodata_shards.msgpack.zst"
	// (CEP 16: the index, and one shard per package name under shards/).
	// Nil means repodata.json only. Set it before Add, which rewrites each
	// of them and removes those not listed, so that a client that prefers
	// one meets a 404 and moves on to the next. [Channel.WithSubdir]
	// copies it.
	Documents []string

	addMu sync.Mutex // serialises Add, so repodata.json never loses a record
	// Guarded by addMu, by filename: packages added before Serve whose
	// attestation names a file:// channel. Serve signs resign's again, for
	// the served URL, and fails the test on fileTarget's (a targetChannel
	// the test chose).
	resign     map[string]Package
	fileTarget map[string]string

	mu      sync.Mutex              // guards the fields below
	records map[string]fetch.Record // as written in repodata, by filename
	srv     *server                 // shared by the subdirs of one channel
}

// server is a channel's HTTP server, once Serve started it.
type server struct {
	serveMu  sync.Mutex // held through Serve; taken before any addMu
	mu       sync.Mutex // guards the fields below
	url      string
	requests map[string]int // by path, counted by Serve's handler
	subdirs  []*Channel     // every subdir of the channel
}

// NewChannel creates an empty channel with subdir and an empty repodata.json.
func NewChannel(t testing.TB, subdir string) *Channel {
	t.Helper()
	return newSubdir(t, t.TempDir(), subdir, &server{requests: map[string]int{}})
}

// WithSubdir returns another subdir of c's channel (same directory, same
// server), e.g. "noarch" beside "linux-64", with an empty repodata.json.
func (c *Channel) WithSubdir(t testing.TB, subdir string) *Channel {
	t.Helper()
	if subdir == c.Subdir {
		t.Fatalf("condasigstest: the channel has subdir %s already", subdir)
	}
	s := newSubdir(t, c.Dir, subdir, c.srv)
	s.Documents = slices.Clone(c.Documents)
	if s.Documents != nil {
		s.writeRepodata(t)
	}
	return s
}

func newSubdir(t testing.TB, dir, subdir string, srv *server) *Channel {
	t.Helper()
	c := &Channel{Dir: dir, Subdir: subdir, resign: map[string]Package{}, fileTarget: map[string]string{},
		records: map[string]fetch.Record{}, srv: srv}
	if err := os.MkdirAll(filepath.Join(c.Dir, subdir), 0o755); err != nil {
		t.Fatalf("condasigstest: %v", err)
	}
	c.writeRepodata(t)
	srv.mu.Lock()
	srv.subdirs = append(srv.subdirs, c)
	srv.mu.Unlock()
	return c
}

// Package describes one package to add. Zero values mean "the normal, valid
// thing".
type Package struct {
	// Filename is the package's file name, e.g. "demo-1.0-0.conda"; required.
	Filename string
	// Data is the package's bytes; by default, bytes derived from Filename.
	Data []byte
	// Bundles are the sidecar's elements. Add needs Bundles or Sidecar
	// unless Unsigned or Signer is set; a non-nil empty Bundles makes the
	// sidecar "[]".
	Bundles [][]byte
	// Unsigned packages have no attestations_sha256 and no sidecar files.
	Unsigned bool
	// Sidecar is the sidecar's raw bytes, overriding the JSON array of
	// Bundles: for garbage, empty-array or oversize tests.
	Sidecar []byte
	// AdvertisedSHA256 overrides the record's attestations_sha256; the
	// sidecar is still stored under its true hash.
	AdvertisedSHA256 string
	// NoSidecarFile advertises the sidecar but leaves out its
	// content-addressed file (a 404); the mutable .sigs file is written.
	NoSidecarFile bool
	// OmitSHA256 leaves "sha256" out of the record. The package's bytes
	// are still in its file, filepath.Join(Dir, Subdir, Filename).
	OmitSHA256 bool

	// Signer, when Bundles and Sidecar are nil and the package is not
	// Unsigned, signs the package: one bundle by Identity and Issuer over
	// Statement(Filename, the sha256 of Data, TargetChannel). By default
	// Identity is "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"
	// and Issuer is [DefaultIssuer].
	Signer           *Sigstore
	Identity, Issuer string
	// TargetChannel is the statement's targetChannel. Empty means the
	// channel's own URL, [Channel.URL], which Serve changes: a package
	// added before Serve is signed again by Serve, for the served URL.
	// NoPredicate leaves the predicate out.
	TargetChannel string
	NoPredicate   bool
	// ReplayOf makes Signer's bundle attest another package: the file
	// named ReplayOf, with its default bytes. Served as this package's
	// attestation, it is a replayed bundle.
	ReplayOf string
	// TamperSidecar serves other bytes than the advertised ones at the
	// content-addressed URL (a hash mismatch).
	TamperSidecar bool
	// RecordSHA256 overrides the sha256 of the record: repodata that names
	// other bytes than the package's (and the attestation's).
	RecordSHA256 string
	// EditRecord, if set, edits the record last, before it is written:
	// for repodata whose fields contradict the file name or the bytes
	// (another name, a foreign md5, a wrong size).
	EditRecord func(*fetch.Record)
}

// DefaultIssuer is the OIDC issuer a Signer signs with when a Package
// names none: GitHub Actions'. The identity it signs with then is
// "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0",
// which the SAN pattern "https://github.com/example/*" matches.
const DefaultIssuer = "https://token.actions.githubusercontent.com"

// defaultIdentity is the identity (certificate SAN) a Signer signs with
// when a Package names none.
const defaultIdentity = "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"

// sign makes p's bundle with p.Signer. forFile reports a bundle signed for
// the channel's own URL while that is its file:// URL (before Serve).
func (c *Channel) sign(t testing.TB, p Package, data []byte) (bundle []byte, forFile bool) {
	t.Helper()
	identity, issuer := p.Identity, p.Issuer
	if identity == "" {
		identity = defaultIdentity
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	target := p.TargetChannel
	switch {
	case p.NoPredicate:
		target = ""
	case target == "":
		if target = c.served(); target == "" {
			target, forFile = c.fileURL(), true
		}
	}
	name := p.Filename
	if p.ReplayOf != "" {
		name, data = p.ReplayOf, defaultData(p.ReplayOf)
	}
	sum := sha256.Sum256(data)
	return p.Signer.Bundle(t, identity, issuer, Statement(name, hex.EncodeToString(sum[:]), target)), forFile
}

// Add writes the package file, its sidecar at
// <filename>.sigs.<sha256-of-sidecar-bytes> and at the mutable
// <filename>.sigs, and its record in repodata.json ("packages.conda" for
// .conda, "packages" for .tar.bz2; name, version, build and build_number
// parsed from the filename; subdir, size, sha256, md5, attestations_sha256).
// repodata.json is rewritten after every Add. Add returns the record as
// written, with Filename set. Add is safe for concurrent use.
//
// Add may come before or after [Channel.Serve]. A package its Signer signs
// for the channel's own URL before Serve is signed again by Serve, for the
// served URL, and so gets a new attestations_sha256: after Serve, read its
// record with [Channel.Package]. An attestation naming a file://
// targetChannel fails the test, with both URLs, when the channel is served
// over HTTP: it could not verify there.
func (c *Channel) Add(t testing.TB, p Package) fetch.Record {
	t.Helper()
	c.addMu.Lock()
	defer c.addMu.Unlock()
	return c.add(t, p)
}

// add is Add with c.addMu held.
func (c *Channel) add(t testing.TB, p Package) fetch.Record {
	t.Helper()
	rec, err := newRecord(p.Filename, c.Subdir)
	if err != nil {
		t.Fatalf("condasigstest: %v", err)
	}
	data := p.Data
	if data == nil {
		data = defaultData(p.Filename)
	}
	sum, md := sha256.Sum256(data), md5.Sum(data) //nolint:gosec
	rec.Size, rec.SHA256, rec.MD5 = int64(len(data)), hex.EncodeToString(sum[:]), hex.EncodeToString(md[:])
	c.write(t, p.Filename, data)
	spec, forFile := p, false
	if !p.Unsigned && p.Signer != nil && p.Bundles == nil && p.Sidecar == nil {
		var b []byte
		b, forFile = c.sign(t, p, data)
		p.Bundles = [][]byte{b}
	}
	delete(c.resign, p.Filename)
	delete(c.fileTarget, p.Filename)
	if !p.Unsigned {
		var side []byte
		rec.AttestationsSHA256, side = c.addSidecar(t, p)
		switch target, served := fileTarget(side), c.served(); {
		case forFile:
			c.resign[p.Filename] = spec
		case target == "":
		case served != "":
			c.failFileTarget(t, p.Filename, target, served)
		default:
			c.fileTarget[p.Filename] = target
		}
	}
	if p.AdvertisedSHA256 != "" {
		rec.AttestationsSHA256 = p.AdvertisedSHA256
	}
	if p.RecordSHA256 != "" {
		rec.SHA256 = p.RecordSHA256
	}
	if p.OmitSHA256 {
		rec.SHA256 = ""
	}
	if p.EditRecord != nil {
		p.EditRecord(&rec)
		rec.Filename = p.Filename // the key of the record, not a field
	}
	c.mu.Lock()
	c.records[p.Filename] = rec
	c.mu.Unlock()
	c.writeRepodata(t)
	return rec
}

// failFileTarget fails the test for an attestation naming a file://
// channel on a channel served over HTTP.
func (c *Channel) failFileTarget(t testing.TB, filename, target, served string) {
	t.Helper()
	t.Fatalf("condasigstest: %s/%s: the attestation names targetChannel %s, but the channel is served over HTTP at %s, "+
		"where it would fail verification (target-channel-mismatch); leave Package.TargetChannel empty to sign for the "+
		"channel's own URL, or name an http(s) channel", c.Subdir, filename, target, served)
}

// Package returns what condasigs verifies for an added package: its URL
// on the channel's server (or file:// URL before Serve) and its record as
// repodata lists it.
func (c *Channel) Package(filename string) condasigs.Package {
	c.mu.Lock()
	rec := c.records[filename]
	c.mu.Unlock()
	return condasigs.Package{URL: c.URL() + "/" + c.Subdir + "/" + filename, Record: rec}
}
