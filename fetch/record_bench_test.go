package fetch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condasigs/condasigs/fetch"
)

// syntheticRepodata returns a repodata.json document shaped like a
// conda-forge subdir: n records of about 700 bytes each, with the usual
// fields, dependency lists, escapes and a "removed" list.
func syntheticRepodata(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"info":{"subdir":"linux-64"},"packages":{`)
	rec := func(i int, ext string) {
		name, version, build := syntheticNVB(i)
		fmt.Fprintf(&b, `"%s-%s-%s%s":{"build":"%s","build_number":%d,"constrains":["libfoo >=1.2,<2.0a0","bar-\u00e9t\u00e9 >=3"],`+
			`"depends":["__glibc >=2.17,<3.0.a0","libgcc >=13","libstdcxx >=13","python >=3.12,<3.13.0a0","python_abi 3.12.* *_cp312",`+
			`"numpy >=1.19,<3","openssl >=3.3.2,<4.0a0","zlib >=1.3.1,<2.0a0","libzlib >=1.3.1,<2.0a0","tzdata"],`+
			`"license":"BSD-3-Clause AND MIT","license_family":"BSD","md5":"%032x","name":"%s","sha256":"%064x","size":%d,`+
			`"subdir":"linux-64","timestamp":%d,"version":"%s"`,
			name, version, build, ext, build, i%5, i, name, i*7919, 100000+i*13, 1700000000000+int64(i), version)
		if i%3 == 0 {
			fmt.Fprintf(&b, `,"attestations_sha256":"%064x"`, i*104729)
		}
		b.WriteString(`}`)
	}
	for i := 0; i < n/2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		rec(i, ".tar.bz2")
	}
	b.WriteString(`},"packages.conda":{`)
	for i := n / 2; i < n; i++ {
		if i > n/2 {
			b.WriteByte(',')
		}
		rec(i, ".conda")
	}
	b.WriteString(`},"removed":[`)
	for i := 0; i < n/20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"old%05d-1.0-0.tar.bz2"`, i)
	}
	b.WriteString(`],"repodata_version":1}` + "\n")
	return b.Bytes()
}

// syntheticNVB is the name, version and build of syntheticRepodata's
// record i.
func syntheticNVB(i int) (name, version, build string) {
	return fmt.Sprintf("pkg%05d", i/4), fmt.Sprintf("%d.%d.%d", i%7, i%13, i%3), fmt.Sprintf("py312h%07x_%d", i*2654435761%0xfffffff, i%5)
}

// syntheticFilename is the file name of syntheticRepodata(n)'s record i.
func syntheticFilename(i, n int) string {
	name, version, build := syntheticNVB(i)
	ext := ".conda"
	if i < n/2 {
		ext = ".tar.bz2"
	}
	return name + "-" + version + "-" + build + ext
}

var benchDoc = sync.OnceValue(func() []byte { return syntheticRepodata(40000) })

// BenchmarkScanRepodata scans a synthetic 40,000-record subdir (about 27
// MB): the cost of reading one channel's records.
func BenchmarkScanRepodata(b *testing.B) {
	doc := benchDoc()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := fetch.ScanRepodata(bytes.NewReader(doc), func(fetch.Record) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
		if n != 40000 {
			b.Fatalf("%d records", n)
		}
	}
}

func TestSyntheticRepodataScans(t *testing.T) {
	t.Parallel()
	doc := syntheticRepodata(100)
	var recs []fetch.Record
	err := fetch.ScanRepodata(bytes.NewReader(doc), func(r fetch.Record) bool { recs = append(recs, r); return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 100 || !strings.HasSuffix(recs[99].Filename, ".conda") || recs[0].Subdir != "linux-64" || recs[0].AttestationsSHA256 == "" {
		t.Fatalf("%d records: %+v", len(recs), recs[0])
	}
}

// paddedRecords is the number of records of paddedDoc.
const paddedRecords = 250_000

// paddedDoc is a synthetic subdir of 250,000 records (167 MB, a
// large conda-forge subdir), and paddedWanted the file names of 100 of
// them, spread over both sections, and of 4 files it does not list: the
// wanted records padded out by a quarter million others.
var paddedDoc = sync.OnceValue(func() []byte { return syntheticRepodata(paddedRecords) })

var paddedWanted = sync.OnceValue(func() []string {
	var names []string
	for i := 7; i < paddedRecords; i += paddedRecords / 100 {
		names = append(names, syntheticFilename(i, paddedRecords))
	}
	return append(names, "absent-1.0-0.conda", "pkg00000-0.0.0-x.conda", syntheticFilename(3, paddedRecords)+"x", "")
})

// BenchmarkFindRecordsPadded: FindRecords looks for 104 files in
// paddedDoc, read through an io.Reader, and reports how many times faster
// that is than BenchmarkDecodeRepodataEncodingJSON (measured once in the
// same run) as x-encoding/json.
//
// Measured on a 2-core amd64 machine (Go 1.26, -benchtime 3x -count 3):
//
//	FindRecordsPadded            112-123 ms/op  1360-1485 MB/s  99 KB/op     355 allocs/op  10-11 x-encoding/json
//	FindRecordsPaddedFullDecode  266-277 ms/op   600-630 MB/s   49 MB/op  250,255 allocs/op
//	DecodeRepodataEncodingJSON  1.33-1.62 s/op   103-125 MB/s  232 MB/op  752,093 allocs/op
func BenchmarkFindRecordsPadded(b *testing.B) {
	doc, wanted := paddedDoc(), paddedWanted()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		found, err := fetch.FindRecords(bytes.NewReader(doc), wanted)
		if err != nil {
			b.Fatal(err)
		}
		if found[wanted[0]].Err != nil || found[wanted[99]].Err != nil || found[""].Err == nil {
			b.Fatalf("%v %v %v", found[wanted[0]].Err, found[wanted[99]].Err, found[""].Err)
		}
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(encodingJSONNsPerOp()/perOp, "x-encoding/json")
}

// BenchmarkFindRecordsPaddedFullDecode: BenchmarkFindRecordsPadded with
// FindRecords as it was before skimming, decoding every record.
func BenchmarkFindRecordsPaddedFullDecode(b *testing.B) {
	doc, wanted := paddedDoc(), paddedWanted()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fetch.FindRecordsFullDecode(bytes.NewReader(doc), wanted); err != nil {
			b.Fatal(err)
		}
	}
}

// rawRecords is the baseline's view of a repodata document: each section
// a map of raw records, as a program that decodes repodata with
// encoding/json and reads records later holds it.
type rawRecords struct {
	Packages      map[string]json.RawMessage `json:"packages"`
	PackagesConda map[string]json.RawMessage `json:"packages.conda"`
}

// BenchmarkDecodeRepodataEncodingJSON: the baseline of
// BenchmarkFindRecordsPadded, encoding/json decoding the same document,
// from memory, into maps of raw records (the other keys are checked and
// skipped).
func BenchmarkDecodeRepodataEncodingJSON(b *testing.B) {
	doc := paddedDoc()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		var v rawRecords
		if err := json.Unmarshal(doc, &v); err != nil {
			b.Fatal(err)
		}
		if len(v.Packages)+len(v.PackagesConda) != paddedRecords {
			b.Fatalf("%d records", len(v.Packages)+len(v.PackagesConda))
		}
	}
}

// encodingJSONNsPerOp times the baseline once a test binary, the fastest
// of three runs (testing.Benchmark cannot run inside a benchmark).
var encodingJSONNsPerOp = sync.OnceValue(func() float64 {
	doc := paddedDoc()
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		var v rawRecords
		if err := json.Unmarshal(doc, &v); err != nil {
			panic(err)
		}
		best = min(best, time.Since(start))
	}
	return float64(best.Nanoseconds())
})
