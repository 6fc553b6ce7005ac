package trustroot

import (
	"crypto"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// testKey is a role key: its signer and its TUF form.
type testKey struct {
	signer signature.Signer
	key    *metadata.Key
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	s, err := signature.LoadSigner(priv, crypto.Hash(0))
	require.NoError(t, err)
	k, err := metadata.KeyFromPublicKey(priv.Public())
	require.NoError(t, err)
	return testKey{s, k}
}

// testRole is the keys and threshold a root gives a role.
type testRole struct {
	keys      []testKey
	threshold int
}

// testRoot is a root of the given version with the given roles (a role
// left out has one key of its own, threshold 1); it need not be signed:
// rollback reads only its roles.
func testRoot(t *testing.T, version int64, roles map[string]testRole) *metadata.Metadata[metadata.RootType] {
	t.Helper()
	root := metadata.Root(time.Now().Add(time.Hour))
	root.Signed.Version = version
	for _, role := range []string{metadata.ROOT, metadata.TIMESTAMP, metadata.SNAPSHOT, metadata.TARGETS} {
		r, ok := roles[role]
		if !ok {
			r = testRole{keys: []testKey{newTestKey(t)}, threshold: 1}
		}
		for _, k := range r.keys {
			require.NoError(t, root.Signed.AddKey(k.key, role))
		}
		root.Signed.Roles[role].Threshold = r.threshold
	}
	return root
}

// testState is a trusted state under root with timestamp, snapshot and
// targets metadata of version v, the timestamp signed by tsKeys and the
// snapshot by snapKeys.
func testState(t *testing.T, root *metadata.Metadata[metadata.RootType], v int64, tsKeys, snapKeys []testKey) *trustedState {
	t.Helper()
	ts := metadata.Timestamp(time.Now().Add(time.Hour))
	ts.Signed.Version = v
	for _, k := range tsKeys {
		_, err := ts.Sign(k.signer)
		require.NoError(t, err)
	}
	snap := metadata.Snapshot(time.Now().Add(time.Hour))
	snap.Signed.Version = v
	for _, k := range snapKeys {
		_, err := snap.Sign(k.signer)
		require.NoError(t, err)
	}
	return &trustedState{
		rootVersion: root.Signed.Version, timestampVersion: v, snapshotVersion: v, targetsVersion: v,
		rootMetadata: root, timestampMetadata: ts, snapshotMetadata: snap,
	}
}

// Review F, finding 1: the versions of the timestamp, snapshot and
// targets metadata may start again only under a root that no longer
// accepts the timestamp or snapshot metadata trusted before (their keys
// replaced, or a threshold they do not meet): TUF 5.3.11. A root that
// adds a key, or keeps the keys that signed them, leaves the versions
// binding; the targets keys alone do not free them; the root's version
// never goes down.
func TestTrustedStateRollbackKeyRotation(t *testing.T) {
	t.Parallel()
	a, b := newTestKey(t), newTestKey(t)
	snapKey, tgKey := newTestKey(t), newTestKey(t)
	one := func(keys ...testKey) testRole { return testRole{keys: keys, threshold: 1} }
	base := func(t *testing.T) *trustedState {
		root := testRoot(t, 1, map[string]testRole{
			metadata.TIMESTAMP: one(a), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey),
		})
		return testState(t, root, 1000, []testKey{a}, []testKey{snapKey})
	}
	for name, c := range map[string]struct {
		rootVersion int64
		roles       map[string]testRole
		// refused is the role whose version is refused ("": none).
		refused string
	}{
		"same root": {
			rootVersion: 1, roles: map[string]testRole{metadata.TIMESTAMP: one(a), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)},
			refused: metadata.TIMESTAMP,
		},
		"new root, same keys": {
			rootVersion: 2, roles: map[string]testRole{metadata.TIMESTAMP: one(a), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)},
			refused: metadata.TIMESTAMP,
		},
		"timestamp key replaced": {
			rootVersion: 2, roles: map[string]testRole{metadata.TIMESTAMP: one(b), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)},
		},
		"timestamp key added, the old one kept": {
			rootVersion: 2, roles: map[string]testRole{metadata.TIMESTAMP: one(a, b), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)},
			refused: metadata.TIMESTAMP,
		},
		"timestamp threshold raised above the signatures": {
			rootVersion: 2, roles: map[string]testRole{metadata.TIMESTAMP: {keys: []testKey{a, b}, threshold: 2}, metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)},
		},
		"snapshot key replaced": {
			rootVersion: 2, roles: map[string]testRole{metadata.TIMESTAMP: one(a), metadata.SNAPSHOT: one(b), metadata.TARGETS: one(tgKey)},
		},
		"targets key replaced alone": {
			rootVersion: 2, roles: map[string]testRole{metadata.TIMESTAMP: one(a), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(b)},
			refused: metadata.TIMESTAMP,
		},
		"older root, timestamp key replaced": {
			rootVersion: 0, roles: map[string]testRole{metadata.TIMESTAMP: one(b), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)},
			refused: metadata.ROOT,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := testRoot(t, c.rootVersion, c.roles)
			next := testState(t, root, 1, nil, nil)
			err := base(t).rollback(next)
			if c.refused == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errRollback)
			assert.ErrorContains(t, err, c.refused+".json version")
		})
	}

	// Targets alone going back is refused too while the keys stand.
	b0 := base(t)
	next := testState(t, b0.rootMetadata, 1000, nil, nil)
	next.targetsVersion = 999
	assert.ErrorContains(t, b0.rollback(next), "targets.json version 999 is older than version 1000")
}
