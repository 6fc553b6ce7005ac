package fetch_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/condasigs/condasigs/fetch"
)

// syntheticRepodata returns a repodata.json document shaped like a
// conda-forge subdir: n records of about 700 bytes each, with the usual
// fields, dependency lists, escapes and a "removed" list.
func syntheticRepodata(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"info":{"subdir":"linux-64"},"packages":{`)
	rec := func(i int, ext string) {
		name := fmt.Sprintf("pkg%05d", i/4)
		version := fmt.Sprintf("%d.%d.%d", i%7, i%13, i%3)
		build := fmt.Sprintf("py312h%07x_%d", i*2654435761%0xfffffff, i%5)
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
