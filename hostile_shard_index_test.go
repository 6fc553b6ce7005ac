package condasigs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/internal/cep16"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// TestHostileShardIndexURLIsRecordUnavailable: a shard index is the
// channel's document, so a shards_base_url or base_url it gives on another
// host or scheme, or one that does not parse, is a malformed source: a
// retrieval failure (record-unavailable) of the packages that need it,
// decided by the require table, with the source named. It is not the
// caller's misuse (KindInvalidURL: a Result with an error and no Report,
// exit 2 for the CLI), as it was.
func TestHostileShardIndexURLIsRecordUnavailable(t *testing.T) {
	for _, tc := range []struct{ name, base, shardsBase string }{
		{"shards_base_url on another host", "", "http://evil.invalid/shards/"},
		{"shards_base_url on another scheme", "", "https://127.0.0.1/shards/"},
		{"shards_base_url that does not parse", "", "%zz"},
		{"base_url on another host", "http://evil.invalid/linux-64/", "./shards/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.ch.Documents = []string{"repodata_shards.msgpack.zst", "repodata.json"}
			a := e.signed(t, "a-1.0-0.conda", san)
			sub, err := cep16.Build(cep16.IndexInfo{BaseURL: tc.base, ShardsBaseURL: tc.shardsBase, Subdir: "linux-64"},
				[]cep16.Record{{Filename: a.Filename, Name: "a", Version: "1.0", Build: "0", SHA256: a.SHA256, AttestationsSHA256: a.AttestationsSHA256}}, cep16.ShardOptions{})
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(e.ch.Dir, "linux-64", "repodata_shards.msgpack.zst"), sub.Index, 0o644))
			for mode, want := range map[policy.Mode]string{
				policy.ModeError:  "fail retrieval-failure",
				policy.ModeWarn:   "warn retrieval-failure",
				policy.ModeIgnore: "warn retrieval-failure",
			} {
				r := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(context.Background(), []lockfile.Package{e.locked(a)}, condasigs.BatchOptions{})[0]
				require.NoError(t, r.Err, "mode %s: a hostile index is a retrieval failure, not the caller's misuse", mode)
				require.NotNil(t, r.Report, mode)
				assert.Equal(t, []string{want}, outcomes([]condasigs.Result{r}), mode)
				assert.Equal(t, []string{"record-unavailable"}, reasonCodes(r.Report), mode)
				assert.Equal(t, "repodata_shards.msgpack.zst", r.Report.RecordSource, mode)
				assert.Contains(t, r.Report.Reasons[0].Message, "fetch.Options.RecordSources", "the message says what to do")
			}
		})
	}
}
