// Package cep16 reads and writes the msgpack documents of CEP 16 sharded
// repodata: the shard index (<subdir>/repodata_shards.msgpack.zst, once
// decompressed) and the shards it names. It does no I/O and keeps no
// state; compression, retrieval and hashing are the caller's.
//
// Decoding is strict and fails closed, in the spirit of fetch.ScanRepodata:
// map keys must be msgpack str (never bin), a key appears once in a map
// that is read (msgpack allows repeats; parsers disagree on which wins;
// of the index's names, those the caller reads: see DecodeIndex),
// values have the types the format gives them (a str where repodata.json
// has a string, an unsigned integer for size and build_number, 32 or 16
// bytes for sha256 and md5), and every string kept is valid UTF-8. Unknown
// keys are skipped, after checking that they are well-formed msgpack
// nested at most maxDepth deep. Nothing is allocated from a length the
// input declares: every container is walked, and each of its elements
// takes at least one byte of the input, so the work and memory of a decode
// are linear in its input's size.
package cep16

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/recordfield"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// Version is the index format version this package reads and writes. An
// index that gives another version is refused; one that gives none is
// read as this one (early writers left it out).
const Version = 1

const (
	// maxDepth bounds the nesting of skipped values (msgp.Skip alone
	// would recurse 100,000 deep).
	maxDepth = 64
	// maxKeys bounds the keys of the maps read once a document (the top
	// level, info), whose duplicate check is a linear search. A record's
	// keys are bounded by RecordKept instead, and the index's names and
	// a shard's file names by the input's size.
	maxKeys = 1024
	// RecordKept bounds the bytes one record may keep, as
	// fetch.ScanRepodata's 64 KiB: its file name, its keys (each
	// counting keyCost beyond its length) and the strings of its known
	// fields.
	RecordKept = 64 << 10
	// keyCost is what a key of a record costs of RecordKept beyond its
	// length, as in fetch.ScanRepodata: so a record has fewer than 1,024
	// keys.
	keyCost = 64
	// maxNameLen bounds a package name in the index: conda's names are a
	// few dozen bytes.
	maxNameLen = 1 << 10
)

// Index is a decoded shard index, of the names asked for.
type Index struct {
	// BaseURL and ShardsBaseURL are info.base_url and
	// info.shards_base_url as written: absolute, or relative to the
	// index's URL. BaseURL may be empty (absent).
	BaseURL, ShardsBaseURL string
	// Subdir is info.subdir, empty when absent.
	Subdir string
	// Shards maps each package name that DecodeIndex's want accepted to
	// its shard's SHA-256.
	Shards map[string][32]byte
}

// Record is a package record of a shard, with the fields a verifier
// needs. Digests are lowercase hex.
type Record struct {
	Filename    string
	Name        string
	Version     string
	Build       string
	BuildNumber int64
	Subdir      string
	Size        int64
	SHA256      string
	MD5         string
	// AttestationsSHA256 is attestations_sha256, lowercase hex; empty
	// when the key is absent, nil or empty.
	AttestationsSHA256 string
	// AttestationsKey reports that the record had the attestations_sha256
	// key, whatever its value: with an empty AttestationsSHA256, an
	// invalid advertisement (a retrieval failure), not the absence of one.
	AttestationsKey bool
}

// Error is a decoding failure: the document is malformed.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// wrap names where a msgp error happened, without repeating input bytes.
func wrap(where string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{msg: where + ": " + e.msg}
	}
	switch {
	case errors.Is(err, msgp.ErrShortBytes):
		return &Error{msg: where + ": truncated"}
	}
	return &Error{msg: where + ": " + err.Error()}
}

// key reads a map key, which must be a str.
func key(b []byte) ([]byte, []byte, error) {
	if t := msgp.NextType(b); t != msgp.StrType {
		if len(b) == 0 {
			return nil, b, msgp.ErrShortBytes
		}
		return nil, b, errorf("a map key of type %s, not str", t)
	}
	return msgp.ReadStringZC(b)
}

// skip skips one well-formed value, nested at most maxDepth deep.
func skip(b []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, errorf("a value nested deeper than %d", maxDepth)
	}
	switch msgp.NextType(b) {
	case msgp.MapType:
		n, o, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return b, err
		}
		for i := uint64(0); i < 2*uint64(n); i++ {
			if len(o) == 0 {
				return o, msgp.ErrShortBytes
			}
			if o, err = skip(o, depth+1); err != nil {
				return o, err
			}
		}
		return o, nil
	case msgp.ArrayType:
		n, o, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return b, err
		}
		for i := uint32(0); i < n; i++ {
			if len(o) == 0 {
				return o, msgp.ErrShortBytes
			}
			if o, err = skip(o, depth+1); err != nil {
				return o, err
			}
		}
		return o, nil
	case msgp.InvalidType:
		if len(b) == 0 {
			return b, msgp.ErrShortBytes
		}
		return b, errorf("invalid msgpack prefix 0x%02x", b[0])
	}
	return msgp.Skip(b) // a scalar: no recursion
}

// mapHeader reads the header of a map, or of nil as an empty map when
// nilOK.
func mapHeader(b []byte, nilOK bool) (uint32, []byte, error) {
	if nilOK && msgp.IsNil(b) {
		return 0, b[1:], nil
	}
	if t := msgp.NextType(b); t != msgp.MapType {
		if len(b) == 0 {
			return 0, b, msgp.ErrShortBytes
		}
		return 0, b, errorf("a %s where a map is expected", t)
	}
	return msgp.ReadMapHeaderBytes(b)
}

// keySet finds repeated keys among those of one of the few maps read
// once a document (its top level, info): at most maxKeys of them, so
// that a linear search stays cheap.
type keySet struct{ seen [][]byte }

func (s *keySet) add(k []byte) error {
	if len(s.seen) == maxKeys {
		return errorf("a map with more than %d keys", maxKeys)
	}
	for _, x := range s.seen {
		if string(x) == string(k) {
			return errorf("key %s appears twice", textsafe.Quote(string(k)))
		}
	}
	s.seen = append(s.seen, k) // the input's bytes: nothing is copied
	return nil
}

// recordKeys finds repeated keys in records, as fetch.ScanRepodata's
// table of keys: each key seen gets a slot, stamped with the last record
// that had it, and the table is emptied between records once its keys
// take more than RecordKept bytes.
type recordKeys struct {
	slots map[string]*uint64
	rec   uint64 // the record at hand, numbered from 1
	cost  int
}

// next starts a record.
func (t *recordKeys) next() {
	if t.slots == nil || t.cost > RecordKept {
		t.slots, t.cost = make(map[string]*uint64, 2*recordfield.Count), 0
	}
	t.rec++
}

func (t *recordKeys) add(k []byte) error {
	slot, ok := t.slots[string(k)] // no copy of k for a lookup
	if !ok {
		slot = new(uint64)
		t.slots[string(k)] = slot
		t.cost += len(k) + keyCost
	}
	if *slot == t.rec {
		return errorf("key %s appears twice", textsafe.Quote(string(k)))
	}
	*slot = t.rec
	return nil
}

// str reads a str of at most max bytes of valid UTF-8, or nil as absent.
func str(b []byte, max int) (v []byte, present bool, o []byte, err error) {
	if msgp.IsNil(b) {
		return nil, false, b[1:], nil
	}
	if t := msgp.NextType(b); t != msgp.StrType {
		if len(b) == 0 {
			return nil, false, b, msgp.ErrShortBytes
		}
		return nil, false, b, errorf("a %s where a str is expected", t)
	}
	v, o, err = msgp.ReadStringZC(b)
	if err != nil {
		return nil, false, b, err
	}
	if len(v) > max {
		return nil, false, b, errorf("a str longer than %d bytes", max)
	}
	if !utf8.Valid(v) {
		return nil, false, b, errorf("a str that is not UTF-8")
	}
	return v, true, o, nil
}

// uint63 reads an unsigned integer that fits an int64, or nil as absent.
func uint63(b []byte) (int64, []byte, error) {
	if msgp.IsNil(b) {
		return 0, b[1:], nil
	}
	if t := msgp.NextType(b); t != msgp.IntType && t != msgp.UintType {
		if len(b) == 0 {
			return 0, b, msgp.ErrShortBytes
		}
		return 0, b, errorf("a %s where an unsigned integer is expected", t)
	}
	u, o, err := msgp.ReadUint64Bytes(b)
	if err != nil {
		return 0, b, err
	}
	if u > math.MaxInt64 {
		return 0, b, errorf("an integer above %d", int64(math.MaxInt64))
	}
	return int64(u), o, nil
}

// digest reads a digest of n bytes: a bin of exactly n bytes or, as early
// writers made them, an array of exactly n integers from 0 to 255. nil is
// absent (ok false).
func digest(b []byte, dst []byte) (ok bool, o []byte, err error) {
	n := len(dst)
	switch msgp.NextType(b) {
	case msgp.NilType:
		return false, b[1:], nil
	case msgp.BinType:
		v, o, err := msgp.ReadBytesZC(b)
		if err != nil {
			return false, b, err
		}
		if len(v) != n {
			return false, b, errorf("a digest of %d bytes, not %d", len(v), n)
		}
		copy(dst, v)
		return true, o, nil
	case msgp.ArrayType:
		sz, o, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return false, b, err
		}
		if sz != uint32(n) {
			return false, b, errorf("a digest of %d bytes, not %d", sz, n)
		}
		for i := range dst {
			if t := msgp.NextType(o); t != msgp.IntType && t != msgp.UintType {
				if len(o) == 0 {
					return false, b, msgp.ErrShortBytes
				}
				return false, b, errorf("a digest byte of type %s", t)
			}
			var v uint64
			if v, o, err = msgp.ReadUint64Bytes(o); err != nil {
				return false, b, err
			}
			if v > 255 {
				return false, b, errorf("a digest byte of %d", v)
			}
			dst[i] = byte(v)
		}
		return true, o, nil
	case msgp.InvalidType:
		if len(b) == 0 {
			return false, b, msgp.ErrShortBytes
		}
	}
	return false, b, errorf("a %s where a digest (bin) is expected", msgp.NextType(b))
}

// DecodeIndex decodes a shard index (the msgpack, once decompressed),
// keeping in Index.Shards only the names that want accepts (none when want
// is nil), and calling each, if not nil, with the hash of every name, in
// document order (a hash given for several names comes as many times).
// Neither keeps what it is given: name is a part of b.
//
// Every entry is checked (a str name of valid UTF-8, a hash of 32 bytes),
// wanted or not, and a wanted name that appears twice is an error, as
// parsers disagree on which hash wins; a repeat of a name not wanted
// changes nothing that is read, and is not looked for: doing so would
// hold every name. So the memory of a decode is that of the names kept,
// whatever the size of the index.
func DecodeIndex(b []byte, want func(name []byte) bool, each func(sum [32]byte)) (*Index, error) {
	idx, err := decodeIndex(b, want, each)
	if err != nil {
		return nil, wrap("invalid shard index", err)
	}
	return idx, nil
}

func decodeIndex(b []byte, want func([]byte) bool, each func([32]byte)) (*Index, error) {
	n, b, err := mapHeader(b, false)
	if err != nil {
		return nil, err
	}
	idx := &Index{}
	var keys keySet
	var haveInfo, haveShards bool
	for range n {
		var k []byte
		if k, b, err = key(b); err != nil {
			return nil, err
		}
		if err := keys.add(k); err != nil {
			return nil, err
		}
		switch string(k) {
		case "version":
			var v int64
			if v, b, err = uint63(b); err != nil {
				return nil, fmt.Errorf("version: %w", err)
			}
			if v != Version {
				return nil, errorf("version %d, not %d", v, Version)
			}
		case "info":
			haveInfo = true
			if b, err = idx.info(b); err != nil {
				return nil, wrap("info", err)
			}
		case "shards":
			haveShards = true
			if b, err = idx.shards(b, want, each); err != nil {
				return nil, wrap("shards", err)
			}
		default:
			if b, err = skip(b, 1); err != nil {
				return nil, err
			}
		}
	}
	if len(b) != 0 {
		return nil, errorf("%d bytes after the index", len(b))
	}
	switch {
	case !haveInfo:
		return nil, errorf("no info")
	case !haveShards:
		return nil, errorf("no shards")
	}
	return idx, nil
}

func (idx *Index) info(b []byte) ([]byte, error) {
	n, b, err := mapHeader(b, false)
	if err != nil {
		return b, err
	}
	var keys keySet
	var haveShardsBase bool
	for range n {
		var k []byte
		if k, b, err = key(b); err != nil {
			return b, err
		}
		if err := keys.add(k); err != nil {
			return b, err
		}
		var dst *string
		switch string(k) {
		case "base_url":
			dst = &idx.BaseURL
		case "shards_base_url":
			dst, haveShardsBase = &idx.ShardsBaseURL, true
		case "subdir":
			dst = &idx.Subdir
		default:
			for _, known := range []string{"base_url", "shards_base_url", "subdir"} {
				if strings.EqualFold(string(k), known) {
					return b, errorf("key %s differs from %q only in case", textsafe.Quote(string(k)), known)
				}
			}
			if b, err = skip(b, 2); err != nil {
				return b, err
			}
			continue
		}
		var v []byte
		var present bool
		if v, present, b, err = str(b, RecordKept); err != nil {
			return b, wrap(string(k), err)
		}
		if !present && dst == &idx.ShardsBaseURL {
			return b, errorf("shards_base_url is nil")
		}
		*dst = string(v)
	}
	if !haveShardsBase {
		return b, errorf("no shards_base_url")
	}
	return b, nil
}

// minShardEntry is the fewest bytes one entry of the shards map takes: a
// name of one byte (fixstr) and a bin8 of 32 bytes.
const minShardEntry = 2 + 2 + 32

// shards reads the shards map at b: see DecodeIndex.
func (idx *Index) shards(b []byte, want func([]byte) bool, each func([32]byte)) ([]byte, error) {
	n, b, err := mapHeader(b, false)
	if err != nil {
		return b, err
	}
	idx.Shards = map[string][32]byte{}
	for range n {
		var k []byte
		if k, b, err = key(b); err != nil {
			return b, err
		}
		switch {
		case len(k) == 0:
			return b, errorf("an empty package name")
		case len(k) > maxNameLen:
			return b, errorf("a package name longer than %d bytes", maxNameLen)
		case !utf8.Valid(k):
			return b, errorf("a package name that is not UTF-8")
		}
		var sum [32]byte
		var ok bool
		if ok, b, err = digest(b, sum[:]); err != nil {
			return b, wrap(textsafe.Quote(string(k)), err)
		}
		if !ok {
			return b, errorf("package %s has a nil hash", textsafe.Quote(string(k)))
		}
		if each != nil {
			each(sum)
		}
		if want == nil || !want(k) {
			continue
		}
		if _, dup := idx.Shards[string(k)]; dup {
			return b, errorf("package %s appears twice", textsafe.Quote(string(k)))
		}
		idx.Shards[string(k)] = sum
	}
	return b, nil
}

// DecodeShard decodes a shard (the msgpack, once decompressed) and calls
// fn with each record whose file name want accepts, in document order,
// "packages" and "packages.conda" alike; fn may be called more than once
// for a file the shard lists more than once. Every record is checked,
// wanted or not: one malformed record makes the shard malformed. A record
// without its own subdir gets infoSubdir.
func DecodeShard(b []byte, infoSubdir string, want func(filename []byte) bool, fn func(Record)) error {
	if err := decodeShard(b, infoSubdir, want, fn); err != nil {
		return wrap("invalid shard", err)
	}
	return nil
}

func decodeShard(b []byte, infoSubdir string, want func([]byte) bool, fn func(Record)) error {
	n, b, err := mapHeader(b, false)
	if err != nil {
		return err
	}
	var keys keySet
	var rk recordKeys
	for range n {
		var k []byte
		if k, b, err = key(b); err != nil {
			return err
		}
		if err := keys.add(k); err != nil {
			return err
		}
		switch string(k) {
		case "packages", "packages.conda":
			if b, err = records(b, infoSubdir, want, fn, &rk); err != nil {
				return wrap(string(k), err)
			}
		default: // "removed" among them, as fetch.ScanRepodata skips it
			if b, err = skip(b, 1); err != nil {
				return err
			}
		}
	}
	if len(b) != 0 {
		return errorf("%d bytes after the shard", len(b))
	}
	return nil
}

func records(b []byte, infoSubdir string, want func([]byte) bool, fn func(Record), rk *recordKeys) ([]byte, error) {
	n, b, err := mapHeader(b, true)
	if err != nil {
		return b, err
	}
	for range n {
		var name []byte
		if name, b, err = key(b); err != nil {
			return b, err
		}
		switch {
		case len(name) == 0:
			return b, errorf("a record with an empty file name")
		case len(name) > RecordKept:
			return b, errorf("a file name longer than %d bytes", RecordKept)
		case !utf8.Valid(name):
			return b, errorf("a file name that is not UTF-8")
		}
		var f fields
		if b, err = f.read(b, RecordKept-len(name), rk); err != nil {
			return b, wrap("record "+textsafe.Quote(string(name)), err)
		}
		if want(name) {
			fn(f.record(string(name), infoSubdir))
		}
	}
	return b, nil
}

// fields is a record as read, its strings still in the input.
type fields struct {
	str                  [recordfield.Count][]byte
	buildNumber, size    int64
	sha256               [32]byte
	md5                  [16]byte
	hasSHA256, hasMD5    bool
	attestations         []byte
	attestationsKey      bool
	attestationsFromBin  bool
	attestationsBinValue [32]byte
}

func (f *fields) read(b []byte, kept int, rk *recordKeys) ([]byte, error) {
	n, b, err := mapHeader(b, false)
	if err != nil {
		return b, err
	}
	rk.next()
	for range n {
		var k []byte
		if k, b, err = key(b); err != nil {
			return b, err
		}
		if kept -= len(k) + keyCost; kept < 0 {
			return b, errorf("its keys and strings take more than %d bytes", RecordKept)
		}
		if err := rk.add(k); err != nil {
			return b, err
		}
		fi := -1
		for i, name := range recordfield.Names {
			if string(k) == name {
				fi = i
				break
			}
			if strings.EqualFold(string(k), name) {
				return b, errorf("key %s differs from %q only in case", textsafe.Quote(string(k)), name)
			}
		}
		if fi < 0 {
			if b, err = skip(b, 3); err != nil {
				return b, err
			}
			continue
		}
		if b, err = f.field(fi, b, &kept); err != nil {
			return b, wrap(recordfield.Names[fi], err)
		}
	}
	return b, nil
}

func (f *fields) field(fi int, b []byte, kept *int) ([]byte, error) {
	var err error
	switch fi {
	case recordfield.BuildNumber:
		f.buildNumber, b, err = uint63(b)
		return b, err
	case recordfield.Size:
		f.size, b, err = uint63(b)
		return b, err
	case recordfield.SHA256:
		f.hasSHA256, b, err = digest(b, f.sha256[:])
		return b, err
	case recordfield.MD5:
		f.hasMD5, b, err = digest(b, f.md5[:])
		return b, err
	case recordfield.Attestations:
		f.attestationsKey = true
		return f.attestationsValue(b)
	}
	var v []byte
	if v, _, b, err = str(b, RecordKept); err != nil {
		return b, err
	}
	if *kept -= len(v); *kept < 0 {
		return b, errorf("its keys and strings take more than %d bytes", RecordKept)
	}
	f.str[fi] = v
	return b, nil
}

// attestationsValue reads attestations_sha256: 64 lowercase hex
// characters, or exactly 32 bytes; nil, an empty str and an empty bin are
// an empty advertisement. Anything else is malformed.
func (f *fields) attestationsValue(b []byte) ([]byte, error) {
	switch msgp.NextType(b) {
	case msgp.NilType:
		return b[1:], nil
	case msgp.BinType:
		v, o, err := msgp.ReadBytesZC(b)
		if err != nil {
			return b, err
		}
		switch len(v) {
		case 0:
			return o, nil
		case 32:
			f.attestationsFromBin = true
			copy(f.attestationsBinValue[:], v)
			return o, nil
		}
		return b, errorf("a bin of %d bytes, not 32", len(v))
	case msgp.StrType:
		v, o, err := msgp.ReadStringZC(b)
		if err != nil {
			return b, err
		}
		if len(v) == 0 {
			return o, nil
		}
		if err := conda.ValidateDigest(string(v)); err != nil {
			return b, errorf("%v", err)
		}
		f.attestations = v
		return o, nil
	case msgp.InvalidType:
		if len(b) == 0 {
			return b, msgp.ErrShortBytes
		}
	}
	return b, errorf("a %s where a str or bin is expected", msgp.NextType(b))
}

func (f *fields) record(filename, infoSubdir string) Record {
	r := Record{
		Filename:        filename,
		Name:            string(f.str[recordfield.Name]),
		Version:         string(f.str[recordfield.Version]),
		Build:           string(f.str[recordfield.Build]),
		BuildNumber:     f.buildNumber,
		Subdir:          string(f.str[recordfield.Subdir]),
		Size:            f.size,
		AttestationsKey: f.attestationsKey,
	}
	if r.Subdir == "" {
		r.Subdir = infoSubdir
	}
	if f.hasSHA256 {
		r.SHA256 = hex.EncodeToString(f.sha256[:])
	}
	if f.hasMD5 {
		r.MD5 = hex.EncodeToString(f.md5[:])
	}
	switch {
	case f.attestationsFromBin:
		r.AttestationsSHA256 = hex.EncodeToString(f.attestationsBinValue[:])
	case f.attestations != nil:
		r.AttestationsSHA256 = string(f.attestations)
	}
	return r
}
