package trustroot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeSource struct {
	snap atomic.Pointer[trustroot.Snapshot]
}

func (f *fakeSource) Snapshot(context.Context) (*trustroot.Snapshot, error) {
	return f.snap.Load(), nil
}

func TestCombine(t *testing.T) {
	loaded := time.Now().Add(-time.Hour).UTC()
	expires := time.Now().Add(time.Hour).UTC()
	tuf := &fakeSource{}
	tuf.snap.Store(&trustroot.Snapshot{Material: fixtures.TrustedRoot(fixtures.PublicGoodRootFile),
		Info: trustroot.Info{Kind: "tuf", Source: "https://tuf.example", LoadedAt: loaded, Expires: expires, FromCache: true}})
	file := trustroot.NewStatic(fixtures.TrustedRoot(fixtures.StagingRootFile), "staging.json")
	c := trustroot.Combine(tuf, file)

	s1, err := c.Snapshot(context.Background())
	require.NoError(t, err)
	set, ok := s1.Material.(trustroot.Set)
	require.True(t, ok)
	assert.Len(t, set.Members(), 2)
	assert.Equal(t, "set", s1.Info.Kind)
	assert.Equal(t, loaded, s1.Info.LoadedAt, "the TUF member's age")
	assert.Equal(t, expires, s1.Info.Expires)
	assert.True(t, s1.Info.FromCache)
	assert.Contains(t, s1.Info.Source, "https://tuf.example")
	assert.Contains(t, s1.Info.Source, "staging.json")

	s2, err := c.Snapshot(context.Background())
	require.NoError(t, err)
	assert.Same(t, s1, s2, "unchanged members: the same snapshot")

	tuf.snap.Store(&trustroot.Snapshot{Material: fixtures.TrustedRoot(fixtures.PublicGoodRootFile), Info: trustroot.Info{Kind: "tuf", LoadedAt: time.Now()}})
	s3, err := c.Snapshot(context.Background())
	require.NoError(t, err)
	assert.NotSame(t, s1, s3, "a member's refresh shows")

	// Nested sets are flattened.
	paths := writeRoots(t)
	files, err := trustroot.FromFile(paths[0], paths[1:]...)
	require.NoError(t, err)
	s4, err := trustroot.Combine(tuf, files).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Len(t, s4.Material.(interface{ Members() []root.TrustedMaterial }).Members(), 3)
}

// A set with a TUF member of unknown age is of unknown age, whatever the
// age of its other members; so is a set holding such a set.
func TestCombineAgeUnknown(t *testing.T) {
	known, unknown := &fakeSource{}, &fakeSource{}
	known.snap.Store(&trustroot.Snapshot{Material: fixtures.TrustedRoot(fixtures.PublicGoodRootFile),
		Info: trustroot.Info{Kind: "tuf", Source: "https://a.example", LoadedAt: time.Now().Add(-time.Hour)}})
	unknown.snap.Store(&trustroot.Snapshot{Material: fixtures.TrustedRoot(fixtures.StagingRootFile),
		Info: trustroot.Info{Kind: "tuf", Source: "https://b.example", FromCache: true, AgeUnknown: "no record"}})
	file := trustroot.NewStatic(fixtures.TrustedRoot(fixtures.StagingRootFile), "staging.json")

	for _, order := range [][]trustroot.Source{{known, unknown, file}, {unknown, known, file}} {
		s, err := trustroot.Combine(order...).Snapshot(context.Background())
		require.NoError(t, err)
		assert.True(t, s.Info.LoadedAt.IsZero(), "the age of a set with a member of unknown age")
		assert.Equal(t, "https://b.example: no record", s.Info.AgeUnknown)

		outer, err := trustroot.Combine(trustroot.Combine(order...), file).Snapshot(context.Background())
		require.NoError(t, err)
		assert.True(t, outer.Info.LoadedAt.IsZero())
		assert.NotEmpty(t, outer.Info.AgeUnknown)
	}

	// A nested set of known age passes its age on.
	s, err := trustroot.Combine(trustroot.Combine(known, file), file).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Empty(t, s.Info.AgeUnknown)
	assert.Equal(t, snapshot(t, known).Info.LoadedAt, s.Info.LoadedAt)
}
