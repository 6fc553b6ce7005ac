package condasigstest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/cep16"
)

// newRecord parses name, version, build and build_number from a conda
// filename, <name>-<version>-<build>.conda or .tar.bz2.
func newRecord(filename, subdir string) (fetch.Record, error) {
	stem, ok := strings.CutSuffix(filename, ".conda")
	if !ok {
		if stem, ok = strings.CutSuffix(filename, ".tar.bz2"); !ok {
			return fetch.Record{}, fmt.Errorf("%q is not a .conda or .tar.bz2 filename", filename)
		}
	}
	parts := strings.Split(stem, "-")
	if len(parts) < 3 || strings.Contains(filename, "/") {
		return fetch.Record{}, fmt.Errorf("%q is not <name>-<version>-<build>", filename)
	}
	n := len(parts)
	build := parts[n-1]
	num := build[strings.LastIndex(build, "_")+1:]
	buildNumber, _ := strconv.ParseInt(num, 10, 64) // 0 when not a number
	return fetch.Record{Filename: filename, Name: strings.Join(parts[:n-2], "-"),
		Version: parts[n-2], Build: build, BuildNumber: buildNumber, Subdir: subdir}, nil
}

// writeRepodata writes the subdir's repodata.json from c.records.
func (c *Channel) writeRepodata(t testing.TB) {
	t.Helper()
	doc := struct {
		Info struct {
			Subdir string `json:"subdir"`
		} `json:"info"`
		Packages        map[string]fetch.Record `json:"packages"`
		PackagesConda   map[string]fetch.Record `json:"packages.conda"`
		RepodataVersion int                     `json:"repodata_version"`
	}{Packages: map[string]fetch.Record{}, PackagesConda: map[string]fetch.Record{}, RepodataVersion: 1}
	doc.Info.Subdir = c.Subdir
	c.mu.Lock()
	for name, rec := range c.records {
		if strings.HasSuffix(name, ".conda") {
			doc.PackagesConda[name] = rec
		} else {
			doc.Packages[name] = rec
		}
	}
	data, err := json.MarshalIndent(doc, "", " ")
	c.mu.Unlock()
	if err != nil {
		t.Fatalf("condasigstest: encoding repodata.json: %v", err)
	}
	docs := c.Documents
	if docs == nil {
		docs = []string{"repodata.json"}
	}
	for _, name := range []string{"repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"} {
		if !slices.Contains(docs, name) {
			c.remove(t, name)
		}
	}
	for _, name := range docs {
		switch name {
		case "repodata.json":
			c.write(t, name, data)
		case "repodata.json.zst":
			c.write(t, name, cep16.Compress(data))
		case "repodata_shards.msgpack.zst":
			c.writeShards(t)
		default:
			t.Fatalf("condasigstest: Channel.Documents: unknown document %q: give repodata.json, repodata.json.zst or repodata_shards.msgpack.zst", name)
		}
	}
}

// writeShards writes the subdir's CEP 16 index, repodata_shards.msgpack.zst,
// and its shards under shards/, one a package name.
func (c *Channel) writeShards(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	recs := make([]cep16.Record, 0, len(c.records))
	for name, r := range c.records {
		recs = append(recs, cep16.Record{Filename: name, Name: r.Name, Version: r.Version, Build: r.Build,
			BuildNumber: r.BuildNumber, Subdir: r.Subdir, Size: r.Size, SHA256: r.SHA256, MD5: r.MD5,
			AttestationsSHA256: r.AttestationsSHA256, AttestationsKey: r.AttestationsSHA256 != ""})
	}
	c.mu.Unlock()
	sub, err := cep16.Build(cep16.IndexInfo{BaseURL: "./", ShardsBaseURL: "./shards/", Subdir: c.Subdir}, recs, cep16.ShardOptions{})
	if err != nil {
		t.Fatalf("condasigstest: writing shards: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, c.Subdir, "shards"), 0o755); err != nil {
		t.Fatalf("condasigstest: %v", err)
	}
	for file, data := range sub.Shards {
		c.write(t, "shards/"+file, data)
	}
	// The index last: a client never meets a shard it names missing.
	c.write(t, "repodata_shards.msgpack.zst", sub.Index)
}
