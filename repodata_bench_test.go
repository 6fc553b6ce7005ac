package condasigs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/cep16"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

const (
	// paddedRecords is the size of the padded channel: conda-forge's
	// linux-64 lists about as many.
	paddedRecords = 250_000
	// paddedSigned is the number of signed packages verified.
	paddedSigned = 100
)

// paddedEnv is paddedSigned signed packages served on loopback by one
// channel in two states: tiny (its repodata.json lists only them) and
// padded to paddedRecords conda-forge-like records, served as CEP 16
// shards, repodata.json.zst and repodata.json. The state switches
// between runs: the attestations name one channel URL.
type paddedEnv struct {
	trust  trustroot.Source
	pkgs   []lockfile.Package
	json   []byte               // the padded repodata.json
	docs   [2]map[string][]byte // by state, repodata documents by path
	padded atomic.Bool          // the state served
	served atomic.Int64         // repodata bytes sent
}

// paddedRecord writes one conda-forge-like record (about 480 bytes).
func paddedRecord(b *bytes.Buffer, i int) {
	name := fmt.Sprintf("pad%05d", i/10)
	version := fmt.Sprintf("%d.%d.%d", i%7, i%13, i%3)
	build := fmt.Sprintf("py312h%07x_%d", i*2654435761%0xfffffff, i%5)
	fmt.Fprintf(b, `"%s-%s-%s.conda":{"build":"%s","build_number":%d,"depends":["__glibc >=2.17,<3.0.a0","libgcc >=13","python >=3.12,<3.13.0a0","python_abi 3.12.* *_cp312","numpy >=1.19,<3","libzlib >=1.3.1,<2.0a0"],`+
		`"license":"BSD-3-Clause","license_family":"BSD","md5":"%032x","name":"%s","sha256":"%064x","size":%d,"subdir":"linux-64","timestamp":%d,"version":"%s"}`,
		name, version, build, build, i%5, i, name, i*7919, 100000+i*13, 1700000000000+int64(i), version)
}

// paddedRepodata returns a repodata.json with n padding records and recs,
// the wanted ones last, as the worst case for a scan.
func paddedRepodata(tb testing.TB, n int, recs []fetch.Record) []byte {
	var b bytes.Buffer
	b.Grow(n * 500)
	b.WriteString(`{"info":{"subdir":"linux-64"},"packages":{},"packages.conda":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		paddedRecord(&b, i)
	}
	for i, r := range recs {
		data, err := json.Marshal(r)
		if err != nil {
			tb.Fatal(err)
		}
		if n > 0 || i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:%s`, r.Filename, data)
	}
	b.WriteString(`},"removed":[],"repodata_version":1}`)
	return b.Bytes()
}

func newPaddedEnv(tb testing.TB) *paddedEnv {
	tb.Helper()
	e := &paddedEnv{}
	ss := condasigstest.NewSigstore(tb)
	ch := condasigstest.NewChannel(tb, "linux-64")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := 0
		if e.padded.Load() {
			state = 1
		}
		doc, ok := e.docs[state][r.URL.Path]
		switch {
		case ok:
			e.served.Add(int64(len(doc)))
			w.Header().Set("Content-Length", strconv.Itoa(len(doc))) // as a static file server does
			_, _ = w.Write(doc)
		case strings.Contains(r.URL.Path, "repodata"):
			http.NotFound(w, r)
		default: // packages and sidecars, from the channel's directory
			http.ServeFile(w, r, filepath.Join(ch.Dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/c/"))))
		}
	}))
	tb.Cleanup(srv.Close)
	channel := srv.URL + "/c"
	var recs []fetch.Record
	for i := range paddedSigned {
		rec := ch.Add(tb, condasigstest.Package{Filename: fmt.Sprintf("signed%03d-1.0-0.conda", i), Signer: ss,
			Identity: san, Issuer: issuer, TargetChannel: channel})
		recs = append(recs, rec)
		e.pkgs = append(e.pkgs, lockfile.Package{URL: channel + "/linux-64/" + rec.Filename, SHA256: rec.SHA256, Platforms: []string{"linux-64"}})
	}
	var err error
	if e.trust, err = trustroot.FromJSON(ss.TrustedRootJSON(tb)); err != nil {
		tb.Fatal(err)
	}
	e.json = paddedRepodata(tb, paddedRecords, recs)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		tb.Fatal(err)
	}
	e.docs[0] = map[string][]byte{"/c/linux-64/repodata.json": paddedRepodata(tb, 0, recs)}
	e.docs[1] = map[string][]byte{
		"/c/linux-64/repodata.json":     e.json,
		"/c/linux-64/repodata.json.zst": enc.EncodeAll(e.json, nil),
	}
	for path, doc := range shardDocs(tb, recs) {
		e.docs[1]["/c/linux-64/"+path] = doc
	}
	return e
}

// BenchmarkPaddedChannel verifies paddedSigned packages of a lock file,
// cold, in interleaved rounds: from a tiny channel, and from a channel
// padded to paddedRecords records through each of its record sources. It
// reports each source's time as a ratio to the tiny channel's, the plain
// JSON and zst times as speed-ups over decoding the padded repodata.json
// with encoding/json into a map of raw records (the baseline, timed in
// the same rounds), and the repodata bytes each source transferred.
func BenchmarkPaddedChannel(b *testing.B) {
	e := newPaddedEnv(b)
	run := func(padded bool, sources ...string) time.Duration {
		e.padded.Store(padded)
		v, err := condasigs.New(condasigs.Options{Trust: e.trust, Policy: policy.Policy{Identities: trusted},
			Fetcher: fetch.New(fetch.Options{RecordSources: sources})})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, r := range v.VerifyLocked(context.Background(), e.pkgs, condasigs.BatchOptions{}) {
			if r.Err != nil || r.Report.Outcome != policy.Pass {
				b.Fatalf("%v %+v", r.Err, r.Report)
			}
		}
		return time.Since(start)
	}
	baseline := func() time.Duration {
		start := time.Now()
		var doc struct {
			Packages      map[string]json.RawMessage `json:"packages"`
			PackagesConda map[string]json.RawMessage `json:"packages.conda"`
		}
		if err := json.Unmarshal(e.json, &doc); err != nil {
			b.Fatal(err)
		}
		if len(doc.PackagesConda) != paddedRecords+paddedSigned {
			b.Fatalf("%d records", len(doc.PackagesConda))
		}
		return time.Since(start)
	}
	var tiny, shards, zst, plain, base time.Duration
	var shardBytes, zstBytes, jsonBytes int64
	measure := func(d *time.Duration, bytes *int64, padded bool, sources ...string) {
		before := e.served.Load()
		*d += run(padded, sources...)
		if bytes != nil {
			*bytes = e.served.Load() - before
		}
	}
	for b.Loop() {
		measure(&tiny, nil, false, "repodata.json")
		measure(&shards, &shardBytes, true)
		measure(&zst, &zstBytes, true, "repodata.json.zst", "repodata.json")
		measure(&plain, &jsonBytes, true, "repodata.json")
		base += baseline()
	}
	n := float64(b.N)
	for name, d := range map[string]time.Duration{"tiny": tiny, "shards": shards, "zst": zst, "json": plain, "encjson": base} {
		b.ReportMetric(float64(d.Milliseconds())/n, name+"-ms")
	}
	b.ReportMetric(float64(shards)/float64(tiny), "shards/tiny")
	b.ReportMetric(float64(base)/float64(zst), "encjson/zst")
	b.ReportMetric(float64(base)/float64(plain), "encjson/json")
	b.ReportMetric(float64(shardBytes)/1e6, "shards-MB")
	b.ReportMetric(float64(zstBytes)/1e6, "zst-MB")
	b.ReportMetric(float64(jsonBytes)/1e6, "json-MB")
}

// shardDocs returns the CEP 16 index and shards of the padded channel,
// by path under the subdir: the records of paddedRecord, and recs.
func shardDocs(tb testing.TB, recs []fetch.Record) map[string][]byte {
	tb.Helper()
	all := make([]cep16.Record, 0, paddedRecords+len(recs))
	for i := range paddedRecords {
		name := fmt.Sprintf("pad%05d", i/10)
		version := fmt.Sprintf("%d.%d.%d", i%7, i%13, i%3)
		build := fmt.Sprintf("py312h%07x_%d", i*2654435761%0xfffffff, i%5)
		all = append(all, cep16.Record{Filename: name + "-" + version + "-" + build + ".conda", Name: name, Version: version, Build: build,
			BuildNumber: int64(i % 5), Subdir: "linux-64", Size: int64(100000 + i*13), SHA256: fmt.Sprintf("%064x", i*7919), MD5: fmt.Sprintf("%032x", i)})
	}
	for _, r := range recs {
		all = append(all, cep16.Record{Filename: r.Filename, Name: r.Name, Version: r.Version, Build: r.Build, BuildNumber: r.BuildNumber,
			Subdir: r.Subdir, Size: r.Size, SHA256: r.SHA256, MD5: r.MD5, AttestationsSHA256: r.AttestationsSHA256, AttestationsKey: true})
	}
	sub, err := cep16.Build(cep16.IndexInfo{BaseURL: "./", ShardsBaseURL: "./shards/", Subdir: "linux-64"}, all, cep16.ShardOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]byte{"repodata_shards.msgpack.zst": sub.Index}
	for file, data := range sub.Shards {
		out["shards/"+file] = data
	}
	return out
}
