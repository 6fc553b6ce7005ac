package trustroot_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/trustroot"
)

// rekorLogIDs returns the sorted IDs of the material's transparency logs,
// which tell one Sigstore instance's trusted root from another's.
func rekorLogIDs(tm root.TrustedMaterial) []string {
	var ids []string
	for id := range tm.RekorLogs() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func fixtureLogIDs(name string) []string {
	return rekorLogIDs(fixtures.TrustedRoot(name))
}

// withoutField returns the fixture trusted root without one top-level field.
func withoutField(t *testing.T, name, field string) []byte {
	t.Helper()
	m := fixtures.RawJSON(name)
	require.Contains(t, m, field)
	delete(m, field)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestFromFileRealRoots(t *testing.T) {
	t.Parallel()
	for _, name := range []string{fixtures.PublicGoodRootFile, fixtures.StagingRootFile} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, "trusted_root.json", fixtures.Read(name))
			before := time.Now().UTC()
			s, err := trustroot.FromFile(p)
			require.NoError(t, err)
			snap, err := s.Snapshot(context.Background())
			require.NoError(t, err)
			require.NotNil(t, snap)
			assert.Equal(t, "file", snap.Info.Kind)
			assert.Equal(t, p, snap.Info.Source)
			assert.False(t, snap.Info.LoadedAt.Before(before.Add(-time.Second)), "LoadedAt %v", snap.Info.LoadedAt)
			assert.NotEmpty(t, snap.Material.FulcioCertificateAuthorities())
			assert.Equal(t, fixtureLogIDs(name), rekorLogIDs(snap.Material))

			// A Static source hands out the same immutable snapshot.
			again, err := s.Snapshot(context.Background())
			require.NoError(t, err)
			assert.Same(t, snap, again)
		})
	}
}

func TestFromJSONRealRoots(t *testing.T) {
	t.Parallel()
	for _, name := range []string{fixtures.PublicGoodRootFile, fixtures.StagingRootFile} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			s, err := trustroot.FromJSON(fixtures.Read(name))
			require.NoError(t, err)
			snap, err := s.Snapshot(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "json", snap.Info.Kind)
			assert.Empty(t, snap.Info.Source)
			assert.False(t, snap.Info.LoadedAt.IsZero())
			assert.NotEmpty(t, snap.Material.FulcioCertificateAuthorities())
			assert.Equal(t, fixtureLogIDs(name), rekorLogIDs(snap.Material))
		})
	}
}

func TestFromFileMissing(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "nope", "trusted_root.json")
	s, err := trustroot.FromFile(p)
	require.Error(t, err)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "trustroot: reading the trusted root")
	assert.Contains(t, err.Error(), p, "the message names the file")
}

// rejected are trusted roots that must not load, and a word their error
// must contain.
func rejected(t *testing.T) []struct {
	name string
	json []byte
	want string
} {
	return []struct {
		name string
		json []byte
		want string
	}{
		{"invalid JSON", []byte(`{"mediaType": `), "not a valid trusted_root.json"},
		{"not an object", []byte(`[]`), "not a valid trusted_root.json"},
		{"empty", nil, "not a valid trusted_root.json"},
		{"no Fulcio CA", withoutField(t, fixtures.PublicGoodRootFile, "certificateAuthorities"), "no Fulcio certificate authority"},
		{"no tlogs", withoutField(t, fixtures.PublicGoodRootFile, "tlogs"), "no transparency log"},
		{"staging without tlogs", withoutField(t, fixtures.StagingRootFile, "tlogs"), "no transparency log"},
		// GitHub's real trusted root relies on timestamp authorities and
		// lists no transparency log at all.
		{"GitHub root", fixtures.Read(fixtures.GitHubRootFile), "no transparency log"},
	}
}

func TestFromJSONRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range rejected(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := trustroot.FromJSON(tc.json)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), "trustroot: ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFromFileRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range rejected(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, "trusted_root.json", tc.json)
			s, err := trustroot.FromFile(p)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), p, "the message names the file")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewStatic(t *testing.T) {
	t.Parallel()
	tr := fixtures.TrustedRoot(fixtures.StagingRootFile)
	s := trustroot.NewStatic(tr, "test instance")
	var src trustroot.Source = s
	snap, err := src.Snapshot(context.Background())
	require.NoError(t, err)
	assert.Same(t, tr, snap.Material)
	assert.Equal(t, "static", snap.Info.Kind)
	assert.Equal(t, "test instance", snap.Info.Source)
	assert.False(t, snap.Info.LoadedAt.IsZero())

	b, err := json.Marshal(snap.Info)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kind":"static"`)
	assert.Contains(t, string(b), `"source":"test instance"`)
	assert.Contains(t, string(b), `"loadedAt":`)
}

// writeRoots writes the public-good and staging roots to files.
func writeRoots(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{fixtures.PublicGoodRootFile, fixtures.StagingRootFile} {
		p := filepath.Join(dir, filepath.Base(name))
		require.NoError(t, os.WriteFile(p, fixtures.Read(name), 0o644))
		paths = append(paths, p)
	}
	return paths
}

func TestFromFilesMakesASet(t *testing.T) {
	paths := writeRoots(t)
	dir := filepath.Dir(paths[0])
	s, err := trustroot.FromFile(paths[0], paths[1:]...)
	require.NoError(t, err)
	snap, err := s.Snapshot(context.Background())
	require.NoError(t, err)
	set, ok := snap.Material.(trustroot.Set)
	require.True(t, ok)
	assert.Len(t, set.Members(), 2)
	assert.Equal(t, "file", snap.Info.Kind)
	assert.Len(t, set.RekorLogs(), len(set[0].RekorLogs())+len(set[1].RekorLogs()), "the pooled view has every log")

	_, err = trustroot.FromFile(paths[0], filepath.Join(dir, "missing.json"))
	assert.Error(t, err)

	gh := filepath.Join(dir, "github.json")
	require.NoError(t, os.WriteFile(gh, fixtures.Read(fixtures.GitHubRootFile), 0o644))
	_, err = trustroot.FromFile(gh, paths[0])
	assert.NoError(t, err, "GitHub's root, without logs, beside another")
	_, err = trustroot.FromFile(gh)
	assert.ErrorContains(t, err, "no transparency log", "alone it could verify nothing")
}
