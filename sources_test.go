package condasigs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// Every record source works end to end: VerifyLocked reads the records
// from the documents the channel serves, in the client's order, and each
// report says which document it read.
func TestVerifyLockedRecordSources(t *testing.T) {
	all := []string{"repodata_shards.msgpack.zst", "repodata.json.zst", "repodata.json"}
	for _, tc := range []struct {
		name      string
		documents []string
		sources   []string
		want      string
	}{
		{"shards first", all, nil, "repodata_shards.msgpack.zst"},
		{"zst when no shards", all[1:], nil, "repodata.json.zst"},
		{"json last", all[2:], nil, "repodata.json"},
		{"overridden", all, []string{"repodata.json.zst"}, "repodata.json.zst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.ch.Documents = tc.documents
			e.fetcher = fetch.New(fetch.Options{RetryMax: -1, RecordSources: tc.sources})
			a := e.signed(t, "a-1.0-0.conda", san)
			b := e.signed(t, "b-2.0-1.tar.bz2", san)
			locked := []lockfile.Package{e.locked(a), e.locked(b), e.locked(fetch.Record{Filename: "gone-1.0-0.conda", SHA256: a.SHA256})}
			results := e.verifier(t, policy.Policy{}).VerifyLocked(context.Background(), locked, condasigs.BatchOptions{})
			assert.Equal(t, []string{"pass verified", "pass verified", "fail retrieval-failure"}, outcomes(results))
			assert.Equal(t, []string{"record-unavailable"}, reasonCodes(results[2].Report))
			for _, r := range results {
				assert.Equal(t, tc.want, r.Report.RecordSource, r.Report.Filename)
			}
		})
	}
}

// A channel's shard that does not hash to the name the index gives it is
// a retrieval failure of the packages that need it, never "unsigned", and
// leaves the other packages alone.
func TestVerifyLockedTamperedShard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.ch.Documents = []string{"repodata_shards.msgpack.zst", "repodata.json"}
	a := e.signed(t, "a-1.0-0.conda", san)
	b := e.signed(t, "b-1.0-0.conda", san)
	// Rewrite a's shard (the one that lists a) with b's bytes: a shard
	// of valid content under another's name.
	shards := filepath.Join(e.ch.Dir, "linux-64", "shards")
	entries, err := os.ReadDir(shards)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	var aShard, bShard string
	for _, ent := range entries {
		data, err := os.ReadFile(filepath.Join(shards, ent.Name()))
		require.NoError(t, err)
		if containsZstd(t, data, "a-1.0-0.conda") {
			aShard = ent.Name()
		} else {
			bShard = ent.Name()
		}
	}
	require.NotEmpty(t, aShard)
	require.NotEmpty(t, bShard)
	data, err := os.ReadFile(filepath.Join(shards, bShard))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(shards, aShard), data, 0o644))

	for mode, want := range map[policy.Mode][]string{
		policy.ModeError:  {"fail retrieval-failure", "pass verified"},
		policy.ModeWarn:   {"warn retrieval-failure", "pass verified"},
		policy.ModeIgnore: {"warn retrieval-failure", "pass verified"}, // the require table: a retrieval failure is never silent
	} {
		results := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(context.Background(), []lockfile.Package{e.locked(a), e.locked(b)}, condasigs.BatchOptions{})
		assert.Equal(t, want, outcomes(results), mode)
		assert.Equal(t, []string{"record-unavailable"}, reasonCodes(results[0].Report), mode)
		assert.Contains(t, results[0].Report.Reasons[0].Message, "hash", mode)
		assert.Equal(t, "repodata_shards.msgpack.zst", results[0].Report.RecordSource)
	}
}

// containsZstd reports whether the zstd stream data decodes to bytes that
// contain s.
func containsZstd(t *testing.T, data []byte, s string) bool {
	t.Helper()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	require.NoError(t, err)
	defer dec.Close()
	plain, err := dec.DecodeAll(data, nil)
	require.NoError(t, err)
	return bytes.Contains(plain, []byte(s))
}
