package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
)

// verify-env reads records from the documents the channel serves, in
// the order of --record-source, and says which one each subdir used; a
// source the channel lacks moves on, a list without any it serves leaves
// the record unavailable.
func TestVerifyEnvRecordSources(t *testing.T) {
	for _, tc := range []struct {
		name      string
		documents []string
		flags     []string
		code      int
		want      string
	}{
		{name: "default order, shards served", documents: []string{"repodata_shards.msgpack.zst", "repodata.json.zst", "repodata.json"}, code: exitOK, want: "repodata_shards.msgpack.zst"},
		{name: "shards asked for, not served", documents: []string{"repodata.json"}, flags: []string{"--record-source", "shards,json"}, code: exitOK, want: "repodata.json"},
		{name: "default order, zst served", documents: []string{"repodata.json.zst", "repodata.json"}, code: exitOK, want: "repodata.json.zst"},
		{name: "json asked for first", documents: []string{"repodata.json.zst", "repodata.json"}, flags: []string{"--record-source", "json,zst"}, code: exitOK, want: "repodata.json"},
		{name: "file names accepted", documents: []string{"repodata.json.zst"}, flags: []string{"--record-source", "repodata.json,repodata.json.zst"}, code: exitOK, want: "repodata.json.zst"},
		{name: "none served", documents: []string{"repodata.json.zst"}, flags: []string{"--record-source", "json"}, code: exitFail, want: "repodata.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			v := newVirtualChannel(t, dir)
			v.ch.Documents = tc.documents
			rec := v.ch.Add(t, condasigstest.Package{Filename: "a-1.0-0.conda", Signer: v.ss})
			explicit := filepath.Join(dir, "env.txt")
			require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+v.packageURL(rec.Filename)+"#"+rec.SHA256+"\n"), 0o644))
			args := append([]string{"verify-env", "--trusted-root", v.root, "--identity", kitIdentity, "--issuer", condasigstest.DefaultIssuer, "--no-cache"}, tc.flags...)

			code, out, errOut := runCLI(t, append(args, explicit)...)
			require.Equal(t, tc.code, code, out+errOut)
			assert.Contains(t, out, "records of "+v.url+"/linux-64: "+tc.want+" (1 packages)\n")

			code, out, errOut = runCLI(t, append(args, "--format", "json", explicit)...)
			require.Equal(t, tc.code, code, out+errOut)
			var doc struct {
				Summary struct {
					Sources []struct {
						Subdir, Source string
						Packages       int
					}
				}
				Packages []struct{ RecordSource string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
			require.Len(t, doc.Summary.Sources, 1, out)
			assert.Equal(t, v.url+"/linux-64", doc.Summary.Sources[0].Subdir)
			assert.Equal(t, tc.want, doc.Summary.Sources[0].Source)
			assert.Equal(t, tc.want, doc.Packages[0].RecordSource)
		})
	}
}

// verify's report says where the record came from too, and a
// --record-source it cannot use is a usage error.
func TestVerifyRecordSourceFlag(t *testing.T) {
	dir := t.TempDir()
	v := newVirtualChannel(t, dir)
	v.ch.Documents = []string{"repodata_shards.msgpack.zst", "repodata.json.zst"}
	rec := v.ch.Add(t, condasigstest.Package{Filename: "a-1.0-0.conda", Signer: v.ss})
	args := []string{"verify", "--trusted-root", v.root, "--identity", kitIdentity, "--issuer", condasigstest.DefaultIssuer}
	url := v.packageURL(rec.Filename)

	code, out, errOut := runCLI(t, append(args, "--format", "json", url)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, `"recordSource": "repodata_shards.msgpack.zst"`)
	code, out, errOut = runCLI(t, append(args, "--format", "json", "--record-source", "zst", url)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, `"recordSource": "repodata.json.zst"`)

	for _, bad := range [][]string{
		{"--record-source", "bz2"},
		{"--record-source", "zst,zst"},
		{"--record-source", "json", "--repodata", filepath.Join(v.ch.Dir, "linux-64", "a-1.0-0.conda")},
	} {
		code, out, errOut := runCLI(t, append(append(args, bad...), url)...)
		assert.Equal(t, exitProblem, code, "%v: %s%s", bad, out, errOut)
		assert.Contains(t, errOut, "--record-source", "%v", bad)
		assert.False(t, strings.Contains(out, "PASS"), "%v", bad)
	}
}
