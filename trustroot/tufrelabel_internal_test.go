package trustroot

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// A new root that re-encodes the same timestamp key (a new key ID) has not
// rotated it: the trusted timestamp still counts as accepted, whatever key
// IDs its signatures carry (they are not signed), so versions keep binding
// and older metadata relabelled for the new root are a rollback.
func TestTrustedStateRollbackRelabeledKey(t *testing.T) {
	a, snapKey, tgKey := newTestKey(t), newTestKey(t), newTestKey(t)
	one := func(keys ...testKey) testRole { return testRole{keys: keys, threshold: 1} }
	root1 := testRoot(t, 1, map[string]testRole{metadata.TIMESTAMP: one(a), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)})
	base := testState(t, root1, 1000, []testKey{a}, []testKey{snapKey})

	// Root 2: same physical key a, legacy-style encoding -> different key ID.
	reKey := &metadata.Key{Type: a.key.Type, Scheme: a.key.Scheme, Value: a.key.Value,
		UnrecognizedFields: map[string]any{"keyid_hash_algorithms": []any{"sha256", "sha512"}}}
	oldID, _ := a.key.ID()
	newID, _ := reKey.ID()
	require.NotEqual(t, oldID, newID)
	root2 := testRoot(t, 2, map[string]testRole{metadata.TIMESTAMP: one(testKey{a.signer, reKey}), metadata.SNAPSHOT: one(snapKey), metadata.TARGETS: one(tgKey)})

	// Old timestamp v5 (signed long ago by a, under keyid oldID), relabelled.
	old := testState(t, root2, 5, []testKey{a}, []testKey{snapKey})
	for i := range old.timestampMetadata.Signatures {
		old.timestampMetadata.Signatures[i].KeyID = newID
	}
	require.NoError(t, root2.VerifyDelegate(metadata.TIMESTAMP, old.timestampMetadata), "relabelled old timestamp verifies under root 2")
	require.NoError(t, root2.VerifyDelegate(metadata.SNAPSHOT, old.snapshotMetadata))
	require.ErrorIs(t, base.rollback(old), errRollback, "1000 -> 5 with the same keys is a rollback")
}
