package cep16

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Fuzz targets of the decoders: no input panics, and what a decode keeps
// is bounded by its input. Run them with scripts/fuzz.sh.

func fuzzSeeds(f *testing.F) (index, shard []byte) {
	sub, err := Build(IndexInfo{BaseURL: "./", ShardsBaseURL: "./shards/", Subdir: "linux-64"}, []Record{
		{Filename: "a-1-0.conda", Name: "a", Version: "1", Build: "0", SHA256: sumA, MD5: md5A, AttestationsSHA256: attA, Size: 9},
		{Filename: "a-1-0.tar.bz2", Name: "a", Version: "1", Build: "0", BuildNumber: 2, Subdir: "noarch", AttestationsKey: true},
	}, ShardOptions{AttestationsAsBin: true})
	if err != nil {
		f.Fatal(err)
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	index, _ = d.DecodeAll(sub.Index, nil)
	for _, z := range sub.Shards {
		shard, _ = d.DecodeAll(z, nil)
	}
	return index, shard
}

func FuzzDecodeIndex(f *testing.F) {
	index, _ := fuzzSeeds(f)
	f.Add(index, "a")
	f.Add(m(mapH(2), "info", m(mapH(1), "shards_base_url", "s/"), "shards", m(mapH(1), "a", m(arrayH(32), make([]byte, 32)))), "")
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}, "a")
	f.Fuzz(func(t *testing.T, b []byte, want string) {
		// want "" keeps every name; another, that name only.
		sums := 0
		idx, err := DecodeIndex(b, func(n []byte) bool { return want == "" || string(n) == want }, func([32]byte) { sums++ })
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		// Each name takes at least minShardEntry bytes of the input.
		if sums*minShardEntry > len(b) || len(idx.Shards) > sums {
			t.Fatalf("%d names kept, %d hashes, from %d bytes", len(idx.Shards), sums, len(b))
		}
		if want != "" && len(idx.Shards) > 1 {
			t.Fatalf("%d names kept, one wanted", len(idx.Shards))
		}
		if idx.ShardsBaseURL == "" && !strings.Contains(string(b), "shards_base_url") {
			t.Fatal("an index without shards_base_url")
		}
	})
}

func FuzzDecodeShard(f *testing.F) {
	_, shard := fuzzSeeds(f)
	f.Add(shard, "a-1-0.conda")
	f.Add(shard, "a-1-0.tar.bz2")
	f.Add(m(mapH(1), "packages.conda", mapH(1), "a-1-0.conda", m(mapH(1), "md5", m(arrayH(16), make([]byte, 16)))), "a-1-0.conda")
	f.Fuzz(func(t *testing.T, b []byte, want string) {
		kept := 0
		err := DecodeShard(b, "x", func(f []byte) bool { return string(f) == want }, func(r Record) {
			if r.Filename != want {
				t.Fatalf("fn called for %q, not %q", r.Filename, want)
			}
			kept += len(r.Filename) + len(r.Name) + len(r.Version) + len(r.Build) + len(r.Subdir)
			if r.AttestationsSHA256 != "" && len(r.AttestationsSHA256) != 64 {
				t.Fatalf("attestations_sha256 %q", r.AttestationsSHA256)
			}
			if !r.AttestationsKey && r.AttestationsSHA256 != "" {
				t.Fatal("a digest without its key")
			}
		})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if kept > len(b)+len("x")*len(b) {
			t.Fatalf("kept %d bytes of %d", kept, len(b))
		}
	})
}

// benchIndex is an index of n names, as conda-forge's linux-64 (about
// 30,000).
func benchIndex(n int) []byte {
	shards := make(map[string][32]byte, n)
	for i := range n {
		name := fmt.Sprintf("package-name-%d", i)
		shards[name] = sha256.Sum256([]byte(name))
	}
	return AppendIndex(nil, IndexInfo{BaseURL: "./", ShardsBaseURL: "./shards/", Subdir: "linux-64"}, shards)
}

func BenchmarkDecodeIndex30k(b *testing.B) {
	idx := benchIndex(30000)
	b.SetBytes(int64(len(idx)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeIndex(idx, func(n []byte) bool { return string(n) == "package-name-7" }, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeShard50(b *testing.B) {
	var recs []Record
	for i := range 50 {
		recs = append(recs, Record{
			Filename: fmt.Sprintf("numpy-2.%d.0-py312h0_0.conda", i), Name: "numpy", Version: fmt.Sprintf("2.%d.0", i), Build: "py312h0_0",
			Size: 8 << 20, SHA256: sumA, MD5: md5A, AttestationsSHA256: attA, Subdir: "linux-64",
		})
	}
	sh, err := AppendShard(nil, recs, []string{"numpy-1.0.0-py312h0_0.conda"}, ShardOptions{})
	if err != nil {
		b.Fatal(err)
	}
	want := "numpy-2.25.0-py312h0_0.conda"
	b.SetBytes(int64(len(sh)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := DecodeShard(sh, "", func(f []byte) bool { return string(f) == want }, func(Record) { n++ }); err != nil || n != 1 {
			b.Fatal(err, n)
		}
	}
}
