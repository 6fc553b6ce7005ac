package cep16

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tinylib/msgp/msgp"
)

var (
	sumA = strings.Repeat("a1", 32)
	sumB = strings.Repeat("b2", 32)
	md5A = strings.Repeat("c3", 16)
	attA = strings.Repeat("d4", 32)
)

func decompress(t testing.TB, b []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer d.Close()
	out, err := d.DecodeAll(b, nil)
	require.NoError(t, err)
	return out
}

// shardOf decodes a shard and returns its records by file name (the last
// one of a repeated name) and the number of records.
func shardOf(t testing.TB, b []byte, subdir string) (map[string]Record, int, error) {
	t.Helper()
	out := map[string]Record{}
	n := 0
	err := DecodeShard(b, subdir, func([]byte) bool { return true }, func(r Record) { out[r.Filename] = r; n++ })
	return out, n, err
}

func TestBuildRoundTrip(t *testing.T) {
	recs := []Record{
		{Filename: "a-1.0-h0_0.conda", Name: "a", Version: "1.0", Build: "h0_0", SHA256: sumA, MD5: md5A, Size: 1234, AttestationsSHA256: attA},
		{Filename: "a-0.9-h0_0.tar.bz2", Name: "a", Version: "0.9", Build: "h0_0", BuildNumber: 3, Subdir: "noarch", SHA256: sumB},
		{Filename: "b-2-0.conda", Name: "b", Version: "2", Build: "0", AttestationsKey: true},
	}
	for _, asBin := range []bool{false, true} {
		sub, err := Build(IndexInfo{BaseURL: "./", ShardsBaseURL: "./shards/", Subdir: "linux-64", CreatedAt: "2024-01-01T00:00:00Z"}, recs, ShardOptions{AttestationsAsBin: asBin})
		require.NoError(t, err)
		idx, err := DecodeIndex(decompress(t, sub.Index), allNames, nil)
		require.NoError(t, err)
		assert.Equal(t, "./", idx.BaseURL)
		assert.Equal(t, "./shards/", idx.ShardsBaseURL)
		assert.Equal(t, "linux-64", idx.Subdir)
		require.Len(t, idx.Shards, 2)
		got := map[string]Record{}
		for name, sum := range idx.Shards {
			z, ok := sub.Shards[ShardFile(sum)]
			require.True(t, ok, name)
			assert.Equal(t, sum, sha256.Sum256(z))
			rs, _, err := shardOf(t, decompress(t, z), idx.Subdir)
			require.NoError(t, err)
			for f, r := range rs {
				got[f] = r
			}
		}
		want := map[string]Record{}
		for _, r := range recs {
			if r.Subdir == "" {
				r.Subdir = "linux-64"
			}
			r.AttestationsKey = r.AttestationsKey || r.AttestationsSHA256 != ""
			want[r.Filename] = r
		}
		assert.Equal(t, want, got)
	}
}

// m builds msgpack by hand: each argument is appended as it is, a string
// as a str, []byte as raw msgpack, a bin as bin, an int as an int.
type bin []byte

func m(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b = msgp.AppendString(b, v)
		case []byte:
			b = append(b, v...)
		case bin:
			b = msgp.AppendBytes(b, v)
		case int:
			b = msgp.AppendInt64(b, int64(v))
		case uint64:
			b = msgp.AppendUint64(b, v)
		case nil:
			b = msgp.AppendNil(b)
		default:
			panic(fmt.Sprintf("%T", p))
		}
	}
	return b
}

func mapH(n uint32) []byte   { return msgp.AppendMapHeader(nil, n) }
func arrayH(n uint32) []byte { return msgp.AppendArrayHeader(nil, n) }

func unhex(s string) bin {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// shard wraps one record's raw map as a shard listing "a-1-0.conda".
func shard(rec []byte) []byte {
	return m(mapH(1), "packages.conda", mapH(1), "a-1-0.conda", rec)
}

// rec is a valid record's map with extra raw key/values appended.
func rec(n uint32, extra ...any) []byte {
	return m(append([]any{mapH(2 + n), "name", "a", "sha256", unhex(sumA)}, extra...)...)
}

func TestDecodeShardFields(t *testing.T) {
	digestArray := func(hexs string) []byte {
		b := arrayH(uint32(len(hexs) / 2))
		for _, c := range unhex(hexs) {
			b = msgp.AppendUint8(b, c)
		}
		return b
	}
	cases := []struct {
		name  string
		shard []byte
		want  Record
	}{
		{"attestations hex str", shard(rec(1, "attestations_sha256", attA)), Record{AttestationsSHA256: attA, AttestationsKey: true}},
		{"attestations bin 32", shard(rec(1, "attestations_sha256", unhex(attA))), Record{AttestationsSHA256: attA, AttestationsKey: true}},
		{"attestations nil", shard(rec(1, "attestations_sha256", nil)), Record{AttestationsKey: true}},
		{"attestations empty str", shard(rec(1, "attestations_sha256", "")), Record{AttestationsKey: true}},
		{"attestations empty bin", shard(rec(1, "attestations_sha256", bin{})), Record{AttestationsKey: true}},
		{"md5 bin 16", shard(rec(1, "md5", unhex(md5A))), Record{MD5: md5A}},
		{"digests as arrays", shard(m(mapH(3), "name", "a", "sha256", digestArray(sumB), "md5", digestArray(md5A))), Record{SHA256: sumB, MD5: md5A}},
		{"numbers", shard(rec(2, "size", uint64(1<<40), "build_number", 7)), Record{Size: 1 << 40, BuildNumber: 7}},
		{"nil fields are absent", shard(rec(4, "version", nil, "size", nil, "md5", nil, "subdir", nil)), Record{Subdir: "info"}},
		{"own subdir", shard(rec(1, "subdir", "noarch")), Record{Subdir: "noarch"}},
		{"unknown keys skipped", shard(rec(3, "depends", m(arrayH(2), "x", "y"), "timestamp", 1700000000000, "extra", m(mapH(1), bin("k"), bin("v")))), Record{}},
		{"packages nil", m(mapH(2), "packages", nil, "packages.conda", mapH(1), "a-1-0.conda", rec(0)), Record{}},
		{"removed skipped", m(mapH(2), "removed", m(arrayH(1), "x-1-0.conda"), "packages.conda", mapH(1), "a-1-0.conda", rec(0)), Record{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := shardOf(t, tc.shard, "info")
			require.NoError(t, err)
			require.Equal(t, 1, n)
			want := tc.want
			want.Filename, want.Name = "a-1-0.conda", "a"
			if want.SHA256 == "" {
				want.SHA256 = sumA
			}
			if want.Subdir == "" {
				want.Subdir = "info"
			}
			assert.Equal(t, want, got["a-1-0.conda"])
		})
	}
}

// TestDecodeShardRejects: each check of the decoder, and an input only it
// refuses.
func TestDecodeShardRejects(t *testing.T) {
	deep := []byte{}
	for range 100 {
		deep = append(deep, arrayH(1)...)
	}
	deep = append(deep, msgp.AppendNil(nil)...)
	cases := []struct {
		name  string
		shard []byte
		want  string
	}{
		{"not a map", m(arrayH(0)), "a array where a map"},
		{"bin top key", m(mapH(1), bin("packages.conda"), mapH(0)), "map key of type bin"},
		{"bin file name", m(mapH(1), "packages.conda", mapH(1), bin("a-1-0.conda"), rec(0)), "map key of type bin"},
		{"bin record key", shard(rec(1, bin("version"), "1")), "map key of type bin"},
		{"dup top key", m(mapH(2), "packages.conda", mapH(0), "packages.conda", mapH(0)), "appears twice"},
		{"dup unknown top key", m(mapH(2), "x", 1, "x", 1), "appears twice"},
		{"dup record key", shard(rec(1, "name", "b")), `"name" appears twice`},
		{"dup unknown record key", shard(rec(2, "license", "MIT", "license", "BSD")), `"license" appears twice`},
		{"case variant", shard(rec(1, "SHA256", unhex(sumA))), "only in case"},
		{"record not a map", m(mapH(1), "packages.conda", mapH(1), "a-1-0.conda", arrayH(0)), "where a map"},
		{"record nil", m(mapH(1), "packages.conda", mapH(1), "a-1-0.conda", nil), "where a map"},
		{"packages not a map", m(mapH(1), "packages", arrayH(0)), "where a map"},
		{"empty file name", m(mapH(1), "packages.conda", mapH(1), "", rec(0)), "empty file name"},
		{"name as bin", shard(m(mapH(1), "name", bin("a"))), "where a str"},
		{"version as int", shard(rec(1, "version", 1)), "where a str"},
		{"name not UTF-8", shard(m(mapH(1), "name", "a\xff")), "not UTF-8"},
		{"file name not UTF-8", m(mapH(1), "packages.conda", mapH(1), "a\xff-1-0.conda", rec(0)), "not UTF-8"},
		{"build_number negative", shard(rec(1, "build_number", -1)), "to unsigned"},
		{"build_number str", shard(rec(1, "build_number", "1")), "where an unsigned integer"},
		{"size above int64", shard(rec(1, "size", uint64(1<<63))), "an integer above"},
		{"size float", shard(rec(1, "size", msgp.AppendFloat64(nil, 1))), "where an unsigned integer"},
		{"sha256 as str", shard(m(mapH(1), "sha256", sumA)), "where a digest"},
		{"sha256 bin 31", shard(m(mapH(1), "sha256", unhex(sumA[:62]))), "31 bytes, not 32"},
		{"md5 bin 32", shard(rec(1, "md5", unhex(sumA))), "32 bytes, not 16"},
		{"digest array short", shard(m(mapH(1), "sha256", arrayH(31))), "31 bytes, not 32"},
		{"digest array byte 256", shard(rec(1, "md5", m(arrayH(16), 256))), "a digest byte of 256"},
		{"digest array of str", shard(rec(1, "md5", m(arrayH(16), "x"))), "a digest byte of type str"},
		{"attestations 63", shard(rec(1, "attestations_sha256", attA[:63])), "63 characters"},
		{"attestations 65", shard(rec(1, "attestations_sha256", attA+"0")), "65 characters"},
		{"attestations upper", shard(rec(1, "attestations_sha256", strings.ToUpper(attA))), "other than lowercase hex"},
		{"attestations non-hex", shard(rec(1, "attestations_sha256", "g"+attA[1:])), "other than lowercase hex"},
		{"attestations bin 31", shard(rec(1, "attestations_sha256", unhex(attA[:62]))), "bin of 31 bytes"},
		{"attestations bin 33", shard(rec(1, "attestations_sha256", unhex(attA+"00"))), "bin of 33 bytes"},
		{"attestations int", shard(rec(1, "attestations_sha256", 1)), "where a str or bin"},
		{"record too large", shard(rec(1, "version", strings.Repeat("v", RecordKept))), "more than 65536 bytes"},
		{"too deep", shard(rec(1, "depends", deep)), "nested deeper"},
		{"trailing bytes", append(shard(rec(0)), 0xc0), "1 bytes after"},
		{"invalid prefix", shard(rec(1, "x", []byte{0xc1})), "invalid msgpack prefix"},
		{"huge map", m(mapH(1), "packages.conda", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}), "truncated"},
		{"huge str", shard(rec(1, "version", []byte{0xdb, 0xff, 0xff, 0xff, 0xff})), "truncated"},
		{"huge bin", shard(rec(1, "md5", []byte{0xc6, 0xff, 0xff, 0xff, 0xff})), "truncated"},
		{"huge array skipped", shard(rec(1, "depends", []byte{0xdd, 0xff, 0xff, 0xff, 0xff})), "truncated"},
		{"huge map skipped", shard(rec(1, "depends", []byte{0xdf, 0xff, 0xff, 0xff, 0xff})), "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := shardOf(t, tc.shard, "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.IsType(t, &Error{}, err)
		})
	}
}

func TestDecodeShardRepeatedFile(t *testing.T) {
	// A file listed twice, in one map or across both, reaches fn twice;
	// the caller counts.
	b := m(mapH(2), "packages", mapH(1), "a-1-0.conda", rec(0), "packages.conda", mapH(2), "a-1-0.conda", rec(0), "b-1-0.conda", rec(0))
	var n int
	err := DecodeShard(b, "", func(f []byte) bool { return string(f) == "a-1-0.conda" }, func(Record) { n++ })
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestDecodeTruncated(t *testing.T) {
	sub, err := Build(IndexInfo{ShardsBaseURL: "s/"}, []Record{{Filename: "a-1-0.conda", Name: "a", SHA256: sumA, MD5: md5A, AttestationsSHA256: attA, Size: 3}}, ShardOptions{})
	require.NoError(t, err)
	idx := decompress(t, sub.Index)
	var sh []byte
	for _, z := range sub.Shards {
		sh = decompress(t, z)
	}
	for i := range len(idx) {
		_, err := DecodeIndex(idx[:i], allNames, nil)
		require.Error(t, err, "index cut at %d", i)
	}
	for i := range len(sh) {
		_, _, err := shardOf(t, sh[:i], "")
		require.Error(t, err, "shard cut at %d", i)
	}
}

func index(info []byte, shards []byte) []byte {
	return m(mapH(3), "version", 1, "info", info, "shards", shards)
}

func TestDecodeIndexRejects(t *testing.T) {
	okInfo := m(mapH(1), "shards_base_url", "./s/")
	okShards := m(mapH(1), "a", unhex(sumA))
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"version 2", m(mapH(3), "version", 2, "info", okInfo, "shards", okShards), "version 2"},
		{"version str", m(mapH(3), "version", "1", "info", okInfo, "shards", okShards), "where an unsigned integer"},
		{"no info", m(mapH(1), "shards", okShards), "no info"},
		{"no shards", m(mapH(1), "info", okInfo), "no shards"},
		{"no shards_base_url", index(m(mapH(1), "base_url", "./"), okShards), "no shards_base_url"},
		{"nil shards_base_url", index(m(mapH(1), "shards_base_url", nil), okShards), "shards_base_url is nil"},
		{"shards_base_url bin", index(m(mapH(1), "shards_base_url", bin("./s/")), okShards), "where a str"},
		{"info case variant", index(m(mapH(2), "shards_base_url", "./s/", "Base_URL", "x"), okShards), "only in case"},
		{"info dup key", index(m(mapH(2), "shards_base_url", "./s/", "shards_base_url", "./t/"), okShards), "appears twice"},
		{"dup top key", m(mapH(4), "version", 1, "info", okInfo, "shards", okShards, "shards", okShards), "appears twice"},
		{"bin name", index(okInfo, m(mapH(1), bin("a"), unhex(sumA))), "map key of type bin"},
		{"dup name", index(okInfo, m(mapH(2), "a", unhex(sumA), "a", unhex(sumB))), `package "a" appears twice`},
		{"empty name", index(okInfo, m(mapH(1), "", unhex(sumA))), "empty package name"},
		{"hash 31", index(okInfo, m(mapH(1), "a", unhex(sumA[:62]))), "31 bytes, not 32"},
		{"hash str", index(okInfo, m(mapH(1), "a", sumA)), "where a digest"},
		{"hash nil", index(okInfo, m(mapH(1), "a", nil)), "nil hash"},
		{"huge shards map", index(okInfo, []byte{0xdf, 0xff, 0xff, 0xff, 0xff}), "truncated"},
		{"trailing", append(index(okInfo, okShards), 0), "1 bytes after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeIndex(tc.b, allNames, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	idx, err := DecodeIndex(index(okInfo, okShards), allNames, nil)
	require.NoError(t, err)
	got := idx.Shards["a"]
	assert.Equal(t, unhex(sumA), bin(got[:]))
	// Without a version, as early writers made it.
	_, err = DecodeIndex(m(mapH(2), "info", okInfo, "shards", okShards), allNames, nil)
	require.NoError(t, err)
}

// allNames keeps every name of an index.
func allNames([]byte) bool { return true }

// TestDecodeIndexKeepsWantedNames: only the names asked for are kept, each
// sees every entry's hash, and only a wanted name may not repeat.
func TestDecodeIndexKeepsWantedNames(t *testing.T) {
	info := m(mapH(1), "shards_base_url", "./s/")
	b := index(info, m(mapH(4), "a", unhex(sumA), "b", unhex(sumB), "c", unhex(sumA), "b", unhex(sumA)))
	var sums [][32]byte
	idx, err := DecodeIndex(b, func(n []byte) bool { return string(n) == "a" }, func(s [32]byte) { sums = append(sums, s) })
	require.NoError(t, err, "a repeat of a name not wanted is not looked for")
	require.Len(t, idx.Shards, 1)
	got := idx.Shards["a"]
	assert.Equal(t, unhex(sumA), bin(got[:]))
	require.Len(t, sums, 4)
	assert.Equal(t, unhex(sumB), bin(sums[1][:]))

	idx, err = DecodeIndex(b, nil, nil)
	require.NoError(t, err)
	assert.Empty(t, idx.Shards)

	_, err = DecodeIndex(b, func(n []byte) bool { return string(n) == "b" }, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `package "b" appears twice`)

	// An entry not wanted is checked all the same.
	_, err = DecodeIndex(index(info, m(mapH(2), "a", unhex(sumA), "b", unhex(sumB[:62]))), func(n []byte) bool { return string(n) == "a" }, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "31 bytes, not 32")
}

// TestHugeDeclaredSizesAllocateNothing: a header's declared size is never
// allocated.
func TestHugeDeclaredSizesAllocateNothing(t *testing.T) {
	b := index(m(mapH(1), "shards_base_url", "./s/"), []byte{0xdf, 0x7f, 0xff, 0xff, 0xff})
	allocs := testing.AllocsPerRun(10, func() { _, _ = DecodeIndex(b, allNames, nil) })
	assert.Less(t, allocs, 20.0)
}

func TestRecordKeysBudget(t *testing.T) {
	// Keys cost keyCost beyond their length, as in fetch.ScanRepodata: a
	// record of 1,100 short unknown keys takes more than RecordKept.
	r := mapH(1100)
	for i := range 1100 {
		r = append(r, m(fmt.Sprintf("k%d", i), 1)...)
	}
	_, _, err := shardOf(t, shard(r), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keys and strings take more than")
}

func TestRecordKeysTableBounded(t *testing.T) {
	// Many records with distinct unknown keys: the table is emptied, and
	// the decode stays linear.
	var recs [][]byte
	for i := range 3000 {
		recs = append(recs, m(mapH(2), "name", "a", fmt.Sprintf("k%d", i), 1))
	}
	b := m(mapH(1), "packages.conda", mapH(uint32(len(recs))))
	for i, r := range recs {
		b = append(b, m(fmt.Sprintf("a-%d-0.conda", i))...)
		b = append(b, r...)
	}
	_, n, err := shardOf(t, b, "")
	require.NoError(t, err)
	assert.Equal(t, 3000, n)
}

func TestCompressIsOneFrameWithSize(t *testing.T) {
	z := Compress(bytes.Repeat([]byte("x"), 1000))
	var h zstd.Header
	require.NoError(t, h.Decode(z))
	assert.True(t, h.HasFCS)
	assert.EqualValues(t, 1000, h.FrameContentSize)
}
