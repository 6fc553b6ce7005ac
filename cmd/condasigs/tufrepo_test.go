package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// tufRepo is a minimal signed TUF repository (consistent snapshots, one
// version of everything) serving a trusted_root.json target on loopback,
// counting every request. A trimmed copy of trustroot's test helper.
type tufRepo struct {
	srv   *httptest.Server
	hits  atomic.Int64
	files map[string][]byte
	root  []byte
}

func newTUFRepo(t *testing.T, target []byte) *tufRepo {
	t.Helper()
	r := &tufRepo{files: map[string][]byte{}}
	signers := map[string]signature.Signer{}
	root := metadata.Root(expiresIn(365 * 24 * time.Hour))
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		_, priv, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		key, err := metadata.KeyFromPublicKey(priv.Public())
		require.NoError(t, err)
		require.NoError(t, root.Signed.AddKey(key, role))
		signers[role], err = signature.LoadSigner(priv, crypto.Hash(0))
		require.NoError(t, err)
	}
	sign := func(role string, m interface {
		Sign(signature.Signer) (*metadata.Signature, error)
		ToBytes(bool) ([]byte, error)
	}) []byte {
		_, err := m.Sign(signers[role])
		require.NoError(t, err)
		b, err := m.ToBytes(true)
		require.NoError(t, err)
		return b
	}
	r.root = sign(metadata.ROOT, root)
	r.files["1.root.json"] = r.root

	const name = "trusted_root.json"
	tf, err := metadata.TargetFile().FromBytes(name, target, "sha256")
	require.NoError(t, err)
	targets := metadata.Targets(expiresIn(7 * 24 * time.Hour))
	targets.Signed.Targets[name] = tf
	targetsJSON := sign(metadata.TARGETS, targets)
	snapshot := metadata.Snapshot(expiresIn(7 * 24 * time.Hour))
	snapshot.Signed.Meta["targets.json"] = metaFile(targetsJSON)
	snapshotJSON := sign(metadata.SNAPSHOT, snapshot)
	timestamp := metadata.Timestamp(expiresIn(24 * time.Hour))
	timestamp.Signed.Meta["snapshot.json"] = metaFile(snapshotJSON)

	sum := sha256.Sum256(target)
	r.files["targets/"+hex.EncodeToString(sum[:])+"."+name] = target
	r.files["1.targets.json"] = targetsJSON
	r.files["1.snapshot.json"] = snapshotJSON
	r.files["timestamp.json"] = sign(metadata.TIMESTAMP, timestamp)

	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		b, ok := r.files[strings.TrimPrefix(req.URL.Path, "/")]
		if !ok {
			http.NotFound(w, req)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the repository's base URL.
func (r *tufRepo) URL() string { return r.srv.URL }

// Hits is the number of requests served so far.
func (r *tufRepo) Hits() int64 { return r.hits.Load() }

func metaFile(b []byte) *metadata.MetaFiles {
	m := metadata.MetaFile(1)
	m.Length = int64(len(b))
	sum := sha256.Sum256(b)
	m.Hashes["sha256"] = sum[:]
	return m
}

func expiresIn(d time.Duration) time.Time {
	return time.Now().Add(d).UTC().Truncate(time.Second)
}
