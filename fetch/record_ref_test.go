package fetch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
)

// refScan is the reference for ScanRepodata: the earlier implementation on
// encoding/json's Decoder, which buffers every value whole, with the rules
// for "info" and repeated top-level keys that ScanRepodata added. The
// differential tests below hold ScanRepodata's own JSON reading to
// encoding/json's: the same documents accepted, the same strings and
// numbers decoded.
func refScan(r io.Reader) ([]fetch.Record, []bool, error) {
	var recs []fetch.Record
	var adv []bool
	dec := json.NewDecoder(r)
	if err := refDelim(dec, '{'); err != nil {
		return nil, nil, err
	}
	var infoSubdir string
	seen := map[string]bool{}
	for dec.More() {
		key, err := refKey(dec)
		if err != nil {
			return nil, nil, err
		}
		switch key {
		case "packages", "packages.conda", "info":
			if seen[key] {
				return nil, nil, errors.New("twice")
			}
			seen[key] = true
		}
		switch key {
		case "packages", "packages.conda":
			tok, err := dec.Token()
			if err != nil {
				return nil, nil, err
			}
			if tok == nil {
				continue
			}
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return nil, nil, errors.New("not an object")
			}
			for dec.More() {
				filename, err := refKey(dec)
				if err != nil {
					return nil, nil, err
				}
				if filename == "" {
					return nil, nil, errors.New("empty")
				}
				rec, a, err := refRecord(dec)
				if err != nil {
					return nil, nil, err
				}
				rec.Filename = filename
				if rec.Subdir == "" {
					rec.Subdir = infoSubdir
				}
				recs, adv = append(recs, rec), append(adv, a)
			}
			if err := refDelim(dec, '}'); err != nil {
				return nil, nil, err
			}
		case "info":
			if infoSubdir, err = refInfo(dec); err != nil {
				return nil, nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := refDelim(dec, '}'); err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("trailing data")
	}
	return recs, adv, nil
}

func refInfo(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return "", err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", errors.New("not an object")
	}
	var subdir string
	seen := map[string]bool{}
	for dec.More() {
		key, err := refKey(dec)
		if err != nil {
			return "", err
		}
		if seen[key] || (key != "subdir" && strings.EqualFold(key, "subdir")) {
			return "", errors.New("ambiguous")
		}
		seen[key] = true
		if key == "subdir" {
			err = dec.Decode(&subdir)
		} else {
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return "", err
		}
	}
	return subdir, refDelim(dec, '}')
}

var refFields = map[string]func(*json.Decoder, *fetch.Record, *bool) error{
	"name":         func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.Name) },
	"version":      func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.Version) },
	"build":        func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.Build) },
	"build_number": func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.BuildNumber) },
	"subdir":       func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.Subdir) },
	"size":         func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.Size) },
	"sha256":       func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.SHA256) },
	"md5":          func(d *json.Decoder, r *fetch.Record, _ *bool) error { return d.Decode(&r.MD5) },
	"attestations_sha256": func(d *json.Decoder, r *fetch.Record, adv *bool) error {
		err := d.Decode(&r.AttestationsSHA256)
		*adv = true
		return err
	},
}

func refRecord(dec *json.Decoder) (fetch.Record, bool, error) {
	var rec fetch.Record
	var adv bool
	tok, err := dec.Token()
	if err != nil {
		return rec, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rec, false, errors.New("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := refKey(dec)
		if err != nil {
			return rec, false, err
		}
		if seen[key] {
			return rec, false, errors.New("twice")
		}
		seen[key] = true
		if decode, ok := refFields[key]; ok {
			if err := decode(dec, &rec, &adv); err != nil {
				return rec, false, err
			}
			continue
		}
		for known := range refFields {
			if strings.EqualFold(key, known) {
				return rec, false, errors.New("case variant")
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return rec, false, err
		}
	}
	_, err = dec.Token()
	return rec, adv || rec.AttestationsSHA256 != "", err
}

func refKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("key %v", tok)
	}
	return key, nil
}

func refDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %v, got %v", want, tok)
	}
	return nil
}

// checkAgainstReference fails t when ScanRepodata and refScan disagree on
// data: one accepts it and the other does not, or they read other records.
func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > 5000 {
		return // nesting limits are counted from other places
	}
	want, wantAdv, wantErr := refScan(bytes.NewReader(data))
	var got []fetch.Record
	err := fetch.ScanRepodata(bytes.NewReader(data), func(r fetch.Record) bool { got = append(got, r); return true })
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q:\nScanRepodata: %v\nreference:    %v", data, err, wantErr)
	}
	if err != nil {
		if fetch.KindOf(err) != fetch.KindMalformed {
			t.Fatalf("%q: error of kind %q: %v", data, fetch.KindOf(err), err)
		}
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %d records, reference %d", data, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] && !(wantAdv[i] && got[i].HasAttestations()) {
			t.Fatalf("%q: record %d\ngot  %#v\nwant %#v", data, i, got[i], want[i])
		}
		if got[i].HasAttestations() != wantAdv[i] {
			t.Fatalf("%q: record %d: HasAttestations %v, reference %v", data, i, got[i].HasAttestations(), wantAdv[i])
		}
	}
}

// referenceSeeds are documents that exercise JSON's corners: escapes,
// surrogates, invalid UTF-8, numbers, literals, nesting, white space.
var referenceSeeds = []string{
	repodataDoc,
	`{"packages":{"a\u0041\n\t\"\\\/\b\f\r":{"name":"\u00e9\u20ac\ud83d\ude00","version":"\ud800","build":"\udc00\ud800x","sha256":"\ud83d\u0041"}}}`,
	`{"packages":{"a":{"name":"\ud83d\ud83d\ude00","version":"\ud83d\\u0041","build":"\uD83D\uDE00","md5":"\u0000"}}}`,
	"{\"packages\":{\"\xff\xfe\":{\"name\":\"\xc3\xa9\xc3\",\"version\":\"\xed\xa0\x80\",\"build\":\"\xf0\x9f\x98\x80\xf4\x90\x80\x80\",\"md5\":\"\xef\xbf\xbd\xc0\xaf\"}}}",
	"{\"packages\":{\"\xff\":{},\"\xfe\":{}}}",
	`{"packages":{"a":{"name":"a","\u006eame":"b"}}}`,
	`{"packages":{"a":{"sh\u0061256":"x"}}}`,
	`{"packages":{"a":{"ſha256":"x"}}}`,
	`{"packages":{"a":{"build_number":-0,"size":9223372036854775807}}}`,
	`{"packages":{"a":{"build_number":-9223372036854775808,"size":0}}}`,
	`{"packages":{"a":{"size":9223372036854775808}}}`,
	`{"packages":{"a":{"size":-9223372036854775809}}}`,
	`{"packages":{"a":{"size":1.0}}}`,
	`{"packages":{"a":{"size":1e2}}}`,
	`{"packages":{"a":{"size":01}}}`,
	`{"packages":{"a":{"size":-}}}`,
	`{"packages":{"a":{"size":1.}}}`,
	`{"packages":{"a":{"size":1e}}}`,
	`{"packages":{"a":{"size":1e+}}}`,
	`{"packages":{"a":{"size":true}}}`,
	`{"packages":{"a":{"size":"1"}}}`,
	`{"packages":{"a":{"name":1}}}`,
	`{"packages":{"a":{"name":null,"size":null,"attestations_sha256":null}}}`,
	`{"packages":{"a":{"x":[1,-2.5e+3,0.0,1E-7,true,false,null,"s",{"k":[]},{}],"y":{}}}}`,
	`{"packages":{"a":{"x":[1,]}}}`,
	`{"packages":{"a":{"x":{"k":1,}}}}`,
	`{"packages":{"a":{"x":{"k"}}}}`,
	`{"packages":{"a":{"x":{1:2}}}}`,
	`{"packages":{"a":{"x":[}}}}`,
	`{"packages":{"a":{"x":tru}}}`,
	`{"packages":{"a":{"x":nulll}}}`,
	`{"packages":{"a":{"x":"\x"}}}`,
	`{"packages":{"a":{"x":"\u12"}}}`,
	`{"packages":{"a":{"x":"\u12G4"}}}`,
	"{\"packages\":{\"a\":{\"x\":\"\t\"}}}",
	"{\"packages\":{\"a\":{\"x\":\"\x7f\"}}}",
	" \t\r\n{ \"packages\" : { \"a\" : { \"name\" : \"a\" } } } \n\r\t ",
	`{"info":{"subdir":"a","SUBDIR":"b"}}`,
	`{"info":{"subdir":"a","subdir":"b"}}`,
	`{"info":{"base_url":"x","base_url":"y"}}`,
	`{"info":{"subdir":null},"packages":{"a":{}}}`,
	`{"info":{"subdir":"linux-64"},"packages":{"a":{}},"info":{"subdir":"x"}}`,
	`{"packages":{},"packages":{}}`,
	`{"packages.conda":null,"packages.conda":null}`,
	`{"Packages":{"a":1}}`,
	`{"removed":["a","b"],"signatures":{"a":{"k":"v"}},"repodata_version":1}`,
	`{"packages":{"a":{}}}` + "\x00",
	"\ufeff{}",
	`{"a":1}{"b":2}`,
	`{"packages":{"a":{},}}`,
	`{"packages":{"a":{}}},`,
	`{"":1,"":2}`,
}

func TestScanRepodataMatchesReference(t *testing.T) {
	t.Parallel()
	for _, doc := range referenceSeeds {
		checkAgainstReference(t, []byte(doc))
		// Every prefix is checked too.
		for n := range len(doc) {
			checkAgainstReference(t, []byte(doc[:n]))
		}
	}
	checkAgainstReference(t, syntheticRepodata(50))
}

// FuzzScanRepodataMatchesReference: ScanRepodata accepts exactly the
// documents that encoding/json does (under ScanRepodata's rules), and
// decodes the same records from them.
func FuzzScanRepodataMatchesReference(f *testing.F) {
	for _, doc := range referenceSeeds {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkAgainstReference(t, data) })
}
