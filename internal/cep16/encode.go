package cep16

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/tinylib/msgp/msgp"
)

// IndexInfo is the info of an index to write.
type IndexInfo struct {
	BaseURL       string
	ShardsBaseURL string
	Subdir        string
	// CreatedAt is written when not empty, e.g. "2024-01-01T00:00:00Z".
	CreatedAt string
}

// AppendIndex appends the msgpack of an index: version, info and shards.
func AppendIndex(b []byte, info IndexInfo, shards map[string][32]byte) []byte {
	b = msgp.AppendMapHeader(b, 3)
	b = msgp.AppendString(b, "version")
	b = msgp.AppendUint64(b, Version)
	b = msgp.AppendString(b, "info")
	n := uint32(3)
	if info.CreatedAt != "" {
		n++
	}
	b = msgp.AppendMapHeader(b, n)
	b = msgp.AppendString(b, "base_url")
	b = msgp.AppendString(b, info.BaseURL)
	b = msgp.AppendString(b, "shards_base_url")
	b = msgp.AppendString(b, info.ShardsBaseURL)
	b = msgp.AppendString(b, "subdir")
	b = msgp.AppendString(b, info.Subdir)
	if info.CreatedAt != "" {
		b = msgp.AppendString(b, "created_at")
		b = msgp.AppendString(b, info.CreatedAt)
	}
	b = msgp.AppendString(b, "shards")
	b = msgp.AppendMapHeader(b, uint32(len(shards)))
	for _, name := range slices.Sorted(maps.Keys(shards)) {
		sum := shards[name]
		b = msgp.AppendString(b, name)
		b = msgp.AppendBytes(b, sum[:])
	}
	return b
}

// ShardOptions choose among the encodings a shard's writer may use.
type ShardOptions struct {
	// AttestationsAsBin writes attestations_sha256 as 32 bytes rather than
	// as its hex string.
	AttestationsAsBin bool
}

// AppendShard appends the msgpack of a shard holding recs, each under
// "packages.conda" or "packages" by its file name's extension, and the
// file names of removed. SHA256, MD5 and (with AttestationsAsBin)
// AttestationsSHA256 must be hex of the right length when set; Subdir,
// Name, Version and Build are written when set; attestations_sha256 when
// set or when AttestationsKey is. Records are written in file name order.
func AppendShard(b []byte, recs []Record, removed []string, opts ShardOptions) ([]byte, error) {
	var tarBz2, conda []Record
	for _, r := range recs {
		if strings.HasSuffix(r.Filename, ".conda") {
			conda = append(conda, r)
		} else {
			tarBz2 = append(tarBz2, r)
		}
	}
	b = msgp.AppendMapHeader(b, 3)
	var err error
	for _, part := range []struct {
		key  string
		recs []Record
	}{{"packages", tarBz2}, {"packages.conda", conda}} {
		slices.SortFunc(part.recs, func(x, y Record) int { return strings.Compare(x.Filename, y.Filename) })
		b = msgp.AppendString(b, part.key)
		b = msgp.AppendMapHeader(b, uint32(len(part.recs)))
		for _, r := range part.recs {
			b = msgp.AppendString(b, r.Filename)
			if b, err = appendRecord(b, r, opts); err != nil {
				return nil, fmt.Errorf("record %q: %w", r.Filename, err)
			}
		}
	}
	b = msgp.AppendString(b, "removed")
	b = msgp.AppendArrayHeader(b, uint32(len(removed)))
	for _, f := range removed {
		b = msgp.AppendString(b, f)
	}
	return b, nil
}

func appendRecord(b []byte, r Record, opts ShardOptions) ([]byte, error) {
	type kv struct {
		k string
		v func([]byte) ([]byte, error)
	}
	strField := func(s string) func([]byte) ([]byte, error) {
		return func(b []byte) ([]byte, error) { return msgp.AppendString(b, s), nil }
	}
	binField := func(h string, n int) func([]byte) ([]byte, error) {
		return func(b []byte) ([]byte, error) {
			v, err := hex.DecodeString(h)
			if err != nil || len(v) != n {
				return nil, fmt.Errorf("%q is not %d bytes of hex", h, n)
			}
			return msgp.AppendBytes(b, v), nil
		}
	}
	fields := []kv{
		{"build_number", func(b []byte) ([]byte, error) { return msgp.AppendUint64(b, uint64(r.BuildNumber)), nil }},
	}
	if r.BuildNumber < 0 || r.Size < 0 {
		return nil, fmt.Errorf("a negative build number or size")
	}
	for _, f := range []struct{ k, v string }{{"name", r.Name}, {"version", r.Version}, {"build", r.Build}, {"subdir", r.Subdir}} {
		if f.v != "" {
			fields = append(fields, kv{f.k, strField(f.v)})
		}
	}
	if r.Size > 0 {
		fields = append(fields, kv{"size", func(b []byte) ([]byte, error) { return msgp.AppendUint64(b, uint64(r.Size)), nil }})
	}
	if r.SHA256 != "" {
		fields = append(fields, kv{"sha256", binField(r.SHA256, 32)})
	}
	if r.MD5 != "" {
		fields = append(fields, kv{"md5", binField(r.MD5, 16)})
	}
	if r.AttestationsSHA256 != "" || r.AttestationsKey {
		v := strField(r.AttestationsSHA256)
		if opts.AttestationsAsBin && r.AttestationsSHA256 != "" {
			v = binField(r.AttestationsSHA256, 32)
		}
		fields = append(fields, kv{"attestations_sha256", v})
	}
	b = msgp.AppendMapHeader(b, uint32(len(fields)))
	var err error
	for _, f := range fields {
		b = msgp.AppendString(b, f.k)
		if b, err = f.v(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Compress compresses a document as a channel serves it: one zstd frame,
// with its content size.
func Compress(msgpack []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err) // constant, valid options
	}
	defer enc.Close()
	return enc.EncodeAll(msgpack, nil)
}

// Subdir is the sharded repodata of one subdir, compressed as served.
type Subdir struct {
	// Index is the content of repodata_shards.msgpack.zst.
	Index []byte
	// Shards maps each shard's file name under the shards base URL,
	// "<sha256 lowercase hex>.msgpack.zst", to its content.
	Shards map[string][]byte
}

// Build writes the index and the shards of a subdir's records, one shard
// per package name (the record's Name).
func Build(info IndexInfo, recs []Record, opts ShardOptions) (Subdir, error) {
	byName := map[string][]Record{}
	for _, r := range recs {
		if r.Name == "" {
			return Subdir{}, fmt.Errorf("record %q has no name", r.Filename)
		}
		byName[r.Name] = append(byName[r.Name], r)
	}
	out := Subdir{Shards: map[string][]byte{}}
	sums := map[string][32]byte{}
	for name, rs := range byName {
		m, err := AppendShard(nil, rs, nil, opts)
		if err != nil {
			return Subdir{}, err
		}
		z := Compress(m)
		sum := sha256.Sum256(z)
		sums[name] = sum
		out.Shards[ShardFile(sum)] = z
	}
	out.Index = Compress(AppendIndex(nil, info, sums))
	return out, nil
}

// ShardFile is the file name of the shard whose compressed bytes hash to
// sum, under the shards base URL.
func ShardFile(sum [32]byte) string {
	return hex.EncodeToString(sum[:]) + ".msgpack.zst"
}
