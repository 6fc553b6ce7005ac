// Package tufrepo serves a real, signed TUF repository on loopback for the
// project's tests: go-tuf's metadata API with ed25519 keys and consistent
// snapshots, a trusted_root.json as its one target.
package tufrepo

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// TargetName is the trusted root's TUF target name.
const TargetName = "trusted_root.json"

// Repo is a real, signed TUF repository with consistent snapshots,
// served over loopback by httptest: <version>.root.json,
// <version>.targets.json, <version>.snapshot.json, timestamp.json and
// targets/<sha256>.trusted_root.json. Every request is counted; SetDown
// makes it answer 503 to everything.
type Repo struct {
	t    testing.TB
	srv  *httptest.Server
	hits atomic.Int64
	down atomic.Bool
	// hook, if set, runs before each request is served; it may block, until
	// the request's context or stop ends.
	hook atomic.Pointer[func(*http.Request)]
	// stop is closed when the test ends, to release blocked hooks.
	stop chan struct{}

	mu      sync.Mutex
	files   map[string][]byte
	version int64
	// target is the trusted root target last published.
	target []byte

	root        []byte
	rootVersion int64
	signers     map[string]signature.Signer
	relabel     map[string]string // old key ID → new, for signatures (ReencodeKeys)
}

// New builds a repository whose trusted root target is target.
func New(t testing.TB, target []byte) *Repo {
	t.Helper()
	r := &Repo{t: t, files: map[string][]byte{}, signers: map[string]signature.Signer{}, stop: make(chan struct{})}
	root := metadata.Root(ExpiresIn(365 * 24 * time.Hour))
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		_, priv, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		key, err := metadata.KeyFromPublicKey(priv.Public())
		require.NoError(t, err)
		require.NoError(t, root.Signed.AddKey(key, role))
		s, err := signature.LoadSigner(priv, crypto.Hash(0))
		require.NoError(t, err)
		r.signers[role] = s
	}
	r.root = r.sign(metadata.ROOT, root)
	r.rootVersion = 1
	r.files["1.root.json"] = r.root

	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	// Cleanups run last-in first-out: release blocked hooks, then close.
	t.Cleanup(r.srv.Close)
	t.Cleanup(func() { close(r.stop) })
	r.Publish(target)
	return r
}

// URL is the repository's base URL.
func (r *Repo) URL() string { return r.srv.URL }

// Root is the repository's initial root.json (version 1).
func (r *Repo) Root() []byte { return append([]byte(nil), r.root...) }

// Done is closed when the test ends: a hook that blocks must also return
// then.
func (r *Repo) Done() <-chan struct{} { return r.stop }

// Hits is the number of requests served so far.
func (r *Repo) Hits() int64 { return r.hits.Load() }

// SetDown makes the mirror answer 503 to every request (or serve again).
func (r *Repo) SetDown(down bool) { r.down.Store(down) }

// SetHook sets (or, with nil, removes) the hook.
func (r *Repo) SetHook(h func(*http.Request)) {
	if h == nil {
		r.hook.Store(nil)
		return
	}
	r.hook.Store(&h)
}

// TargetPath is the URL path of a target file with consistent snapshots.
func TargetPath(target []byte) string {
	sum := sha256.Sum256(target)
	return "/targets/" + hex.EncodeToString(sum[:]) + "." + TargetName
}

func (r *Repo) serve(w http.ResponseWriter, req *http.Request) {
	r.hits.Add(1)
	if h := r.hook.Load(); h != nil {
		(*h)(req)
	}
	if r.down.Load() {
		http.Error(w, "mirror down", http.StatusServiceUnavailable)
		return
	}
	r.mu.Lock()
	b, ok := r.files[strings.TrimPrefix(req.URL.Path, "/")]
	r.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// Publish makes target the trusted root, with new targets, snapshot and
// timestamp versions and a timestamp valid for a day.
func (r *Repo) Publish(target []byte) {
	r.PublishExpiring(target, ExpiresIn(24*time.Hour))
}

// PublishExpiring is publish with the timestamp expiring at tsExpires.
// The versioned files are all in place before timestamp.json changes, as
// on a real mirror, and a client never sees half a publication.
func (r *Repo) PublishExpiring(target []byte, tsExpires time.Time) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.version++
	v := r.version

	tf, err := metadata.TargetFile().FromBytes(TargetName, target, "sha256")
	require.NoError(r.t, err)
	targets := metadata.Targets(ExpiresIn(7 * 24 * time.Hour))
	targets.Signed.Version = v
	targets.Signed.Targets[TargetName] = tf
	targetsJSON := r.sign(metadata.TARGETS, targets)

	snapshot := metadata.Snapshot(ExpiresIn(7 * 24 * time.Hour))
	snapshot.Signed.Version = v
	snapshot.Signed.Meta["targets.json"] = metaFile(v, targetsJSON)
	snapshotJSON := r.sign(metadata.SNAPSHOT, snapshot)

	timestamp := metadata.Timestamp(tsExpires.UTC().Truncate(time.Second))
	timestamp.Signed.Version = v
	timestamp.Signed.Meta["snapshot.json"] = metaFile(v, snapshotJSON)
	timestampJSON := r.sign(metadata.TIMESTAMP, timestamp)

	r.target = append([]byte(nil), target...)
	r.files[strings.TrimPrefix(TargetPath(target), "/")] = append([]byte(nil), target...)
	r.files[fmt.Sprintf("%d.targets.json", v)] = targetsJSON
	r.files[fmt.Sprintf("%d.snapshot.json", v)] = snapshotJSON
	r.files["timestamp.json"] = timestampJSON
}

// RotateRoot publishes the next root version, <version>.root.json, with
// new keys for every role, signed by the root key before it and by its
// own; then it publishes the current target again under the new keys. A
// client that trusts an older root must walk the rotation to verify
// anything the repository now serves. It returns the new root.json.
func (r *Repo) RotateRoot() []byte {
	r.t.Helper()
	return r.RotateKeys(metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP)
}

// RotateKeys is RotateRoot with new keys for the roles given alone: the
// other roles keep theirs. The new root is signed by the root key before
// it and by its own (the same key unless "root" is given); the current
// target is then published again, signed by the keys now in use. With
// SetNextVersion, it stages the repository's recovery from a fast-forward
// attack (TUF 5.3.11): the roles whose keys were compromised get new
// ones, and the versions start again low.
func (r *Repo) RotateKeys(roles ...string) []byte {
	r.t.Helper()
	r.mu.Lock()
	r.rootVersion++
	root := metadata.Root(ExpiresIn(365 * 24 * time.Hour))
	root.Signed.Version = r.rootVersion
	signers := map[string]signature.Signer{}
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		s := r.signers[role]
		if slices.Contains(roles, role) {
			_, priv, err := ed25519.GenerateKey(nil)
			require.NoError(r.t, err)
			s, err = signature.LoadSigner(priv, crypto.Hash(0))
			require.NoError(r.t, err)
		}
		pub, err := s.PublicKey()
		require.NoError(r.t, err)
		key, err := metadata.KeyFromPublicKey(pub)
		require.NoError(r.t, err)
		require.NoError(r.t, root.Signed.AddKey(key, role))
		signers[role] = s
	}
	if signers[metadata.ROOT] != r.signers[metadata.ROOT] {
		_, err := root.Sign(r.signers[metadata.ROOT])
		require.NoError(r.t, err)
	}
	b := r.signWith(signers[metadata.ROOT], root)
	r.files[fmt.Sprintf("%d.root.json", r.rootVersion)] = b
	r.signers = signers
	target := r.target
	r.mu.Unlock()
	r.Publish(target)
	return append([]byte(nil), b...)
}

// SetNextVersion makes the next publication (Publish, or the one
// RotateRoot and RotateKeys make) that of version v of the targets,
// snapshot and timestamp metadata; later ones go on from there. A large v
// stages a fast-forward attack, metadata whose versions an attacker
// holding the online keys raised far ahead; a small one after a rotation,
// the repository's recovery; a small one without a rotation, a rollback
// signed by the keys in use.
func (r *Repo) SetNextVersion(v int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.version = v - 1
}

// signable is the part of metadata.Metadata[T] that sign uses.
type signable interface {
	Sign(signature.Signer) (*metadata.Signature, error)
	ToBytes(pretty bool) ([]byte, error)
}

func (r *Repo) sign(role string, m signable) []byte {
	r.t.Helper()
	return r.signWith(r.signers[role], m)
}

// signWith adds a signature by s and returns the signed document.
func (r *Repo) signWith(s signature.Signer, m signable) []byte {
	r.t.Helper()
	_, err := m.Sign(s)
	require.NoError(r.t, err)
	b, err := m.ToBytes(true)
	require.NoError(r.t, err)
	for o, n := range r.relabel {
		b = bytes.ReplaceAll(b, []byte(`"keyid": "`+o+`"`), []byte(`"keyid": "`+n+`"`))
	}
	return b
}

// metaFile describes b for the snapshot and timestamp roles.
func metaFile(version int64, b []byte) *metadata.MetaFiles {
	m := metadata.MetaFile(version)
	m.Length = int64(len(b))
	sum := sha256.Sum256(b)
	m.Hashes["sha256"] = sum[:]
	return m
}

// ExpiresIn is now + d, truncated as TUF metadata stores it.
func ExpiresIn(d time.Duration) time.Time {
	return time.Now().Add(d).UTC().Truncate(time.Second)
}

// File returns a copy of a served file, e.g. "timestamp.json".
func (r *Repo) File(name string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.files[name]...)
}

// SetFile replaces a served file, e.g. to serve an old timestamp again.
func (r *Repo) SetFile(name string, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[name] = append([]byte(nil), b...)
}

// Files returns a copy of every file the repository serves, by path: a
// state of the mirror that SetFiles can serve again, to replay older
// metadata that are still validly signed and unexpired (a rollback).
func (r *Repo) Files() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	files := make(map[string][]byte, len(r.files))
	for name, b := range r.files {
		files[name] = append([]byte(nil), b...)
	}
	return files
}

// SetFiles makes the repository serve exactly files, as Files returned
// them. What it publishes next (Publish, RotateRoot) is added to them,
// with versions that go on from the newest it published.
func (r *Repo) SetFiles(files map[string][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files = make(map[string][]byte, len(files))
	for name, b := range files {
		r.files[name] = append([]byte(nil), b...)
	}
}

// ReencodeKeys publishes the next root with the same keys, the given
// roles' keys listed under a new key ID (the legacy keyid_hash_algorithms
// encoding): a root that rotates nothing, though its key IDs differ. Later
// signatures of those roles carry the new ID. It returns the old and new
// key IDs by role.
func (r *Repo) ReencodeKeys(roles ...string) map[string][2]string {
	r.t.Helper()
	r.mu.Lock()
	r.rootVersion++
	root := metadata.Root(ExpiresIn(365 * 24 * time.Hour))
	root.Signed.Version = r.rootVersion
	ids := map[string][2]string{}
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		pub, err := r.signers[role].PublicKey()
		require.NoError(r.t, err)
		key, err := metadata.KeyFromPublicKey(pub)
		require.NoError(r.t, err)
		if slices.Contains(roles, role) {
			old, _ := key.ID()
			key = &metadata.Key{Type: key.Type, Scheme: key.Scheme, Value: key.Value,
				UnrecognizedFields: map[string]any{"keyid_hash_algorithms": []any{"sha256", "sha512"}}}
			nid, _ := key.ID()
			ids[role] = [2]string{old, nid}
		}
		require.NoError(r.t, root.Signed.AddKey(key, role))
	}
	b := r.signWith(r.signers[metadata.ROOT], root)
	r.files[fmt.Sprintf("%d.root.json", r.rootVersion)] = b
	if r.relabel == nil {
		r.relabel = map[string]string{}
	}
	for _, v := range ids {
		r.relabel[v[0]] = v[1]
	}
	target := r.target
	r.mu.Unlock()
	r.Publish(target)
	return ids
}
