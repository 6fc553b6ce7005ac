package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/cep16"
)

// TestVerifyEnvHostileShardIndexExitCode: a channel whose shard index
// points shards_base_url at another host is a retrieval failure
// (record-unavailable, exit 1 under require: error, a warning and exit 0
// under require: warn), as a shard that does not hash is, not a usage or
// configuration problem (exit 2); the reason says which flag reads
// repodata.json instead.
func TestVerifyEnvHostileShardIndexExitCode(t *testing.T) {
	for _, tc := range []struct {
		require string
		code    int
	}{{"error", exitFail}, {"warn", exitOK}} {
		t.Run(tc.require, func(t *testing.T) {
			dir := t.TempDir()
			v := newVirtualChannel(t, dir)
			v.ch.Documents = []string{"repodata_shards.msgpack.zst", "repodata.json"}
			rec := v.ch.Add(t, condasigstest.Package{Filename: "a-1.0-0.conda", Signer: v.ss})
			sub, err := cep16.Build(cep16.IndexInfo{ShardsBaseURL: "http://evil.invalid/shards/", Subdir: "linux-64"},
				[]cep16.Record{{Filename: rec.Filename, Name: "a", Version: "1.0", Build: "0", SHA256: rec.SHA256, AttestationsSHA256: rec.AttestationsSHA256}}, cep16.ShardOptions{})
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(v.ch.Dir, "linux-64", "repodata_shards.msgpack.zst"), sub.Index, 0o644))
			explicit := filepath.Join(dir, "env.txt")
			require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+v.packageURL(rec.Filename)+"#"+rec.SHA256+"\n"), 0o644))
			code, out, errOut := runCLI(t, "verify-env", "--trusted-root", v.root, "--identity", kitIdentity,
				"--issuer", condasigstest.DefaultIssuer, "--no-cache", "--require", tc.require, explicit)
			assert.Equal(t, tc.code, code, out+errOut)
			assert.Contains(t, out, "record-unavailable", out+errOut)
			assert.Contains(t, out, "(here: --record-source zst,json reads repodata.json instead)", out+errOut)
		})
	}
}
