package fetch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// Tests of FindRecords' fast path (skim.go) against the scanner as it was:
// fetch.FindRecordsSkimReference decodes every file name and skips values
// token by token (the same answers expected, exactly), and
// fetch.FindRecordsFullDecode decodes every record (the same answers
// whenever it accepts the document). encoding/json checks both: what
// FindRecords accepts is valid JSON, and lists each wanted file as often as
// encoding/json's tokens say.

// chunkReader returns at most n bytes a Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// skimReaders reads data whole, a byte at a time (every token is cut by the
// end of the read buffer), and in chunks of n bytes.
func skimReaders(data []byte, n int) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    bytes.NewReader(data),
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"chunks":   chunkReader{bytes.NewReader(data), max(n, 1)},
	}
}

// sameFound fails t unless two answers of FindRecords are the same: both
// the document's error of one kind, or for every file the same record and
// the same error.
func sameFound(t *testing.T, what string, wanted []string, got map[string]fetch.Found, err error, want map[string]fetch.Found, wantErr error) {
	t.Helper()
	if (err == nil) != (wantErr == nil) || fetch.KindOf(err) != fetch.KindOf(wantErr) {
		t.Fatalf("%s: error %v, want %v", what, err, wantErr)
	}
	for _, f := range wanted {
		g, w := got[f], want[f]
		if g.Record != w.Record || fetch.AdvertisedEmpty(g.Record) != fetch.AdvertisedEmpty(w.Record) {
			t.Fatalf("%s: %q:\ngot  %#v\nwant %#v", what, f, g.Record, w.Record)
		}
		if (g.Err == nil) != (w.Err == nil) || fetch.KindOf(g.Err) != fetch.KindOf(w.Err) {
			t.Fatalf("%s: %q: error %v, want %v", what, f, g.Err, w.Err)
		}
		if err == nil && g.Err != nil && g.Err.Error() != w.Err.Error() {
			t.Fatalf("%s: %q: error %q, want %q", what, f, g.Err, w.Err)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
}

// checkFindRecords fails t when FindRecords disagrees with the references
// on data: see the top of the file. chunk is a read size to try.
func checkFindRecords(t *testing.T, data []byte, wanted []string, chunk int) {
	t.Helper()
	ref, refErr := fetch.FindRecordsSkimReference(bytes.NewReader(data), wanted)
	if refErr != nil && !(fetch.KindOf(refErr) == fetch.KindMalformed) {
		t.Fatalf("%q: reference error of kind %q: %v", data, fetch.KindOf(refErr), refErr)
	}
	var found map[string]fetch.Found
	for how, r := range skimReaders(data, chunk) {
		got, err := fetch.FindRecords(r, wanted)
		sameFound(t, fmt.Sprintf("%q read %s", data, how), wanted, got, err, ref, refErr)
		found = got
	}
	full, fullErr := fetch.FindRecordsFullDecode(bytes.NewReader(data), wanted)
	if fullErr == nil {
		// Decoding every record accepted it: skimming must too, alike.
		sameFound(t, fmt.Sprintf("%q against a full decode", data), wanted, found, refErr, full, fullErr)
	}
	if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > 5000 {
		return // encoding/json counts nesting from elsewhere
	}
	if refErr != nil {
		return
	}
	if !json.Valid(data) {
		t.Fatalf("%q: FindRecords accepts what encoding/json does not", data)
	}
	counts, raws, infoSubdir := jsonRecords(t, data, wanted)
	for _, f := range wanted {
		got := found[f]
		switch n := counts[f]; {
		case n == 0:
			require.True(t, (fetch.KindOf(got.Err) == fetch.KindNotFound), "%q: %q: %v, encoding/json lists it %d times", data, f, got.Err, n)
		case n > 1:
			require.True(t, (fetch.KindOf(got.Err) == fetch.KindMalformed), "%q: %q: %v, encoding/json lists it %d times", data, f, got.Err, n)
		default:
			require.NoError(t, got.Err, "%q: %q", data, f)
			want, err := fetch.ParseRecord(f, raws[f])
			require.NoError(t, err, "%q: %q: ParseRecord", data, f)
			if want.Subdir == "" {
				want.Subdir = infoSubdir
			}
			require.Equal(t, want, got.Record, "%q: %q against ParseRecord", data, f)
		}
	}
}

// jsonRecords reads data with encoding/json's tokens: how many times each
// of wanted is a key of "packages" or "packages.conda", its raw record (the
// last), and the document's info.subdir, wherever "info" is written.
func jsonRecords(t *testing.T, data []byte, wanted []string) (map[string]int, map[string]json.RawMessage, string) {
	t.Helper()
	counts := map[string]int{}
	raws := map[string]json.RawMessage{}
	want := map[string]bool{}
	for _, f := range wanted {
		want[f] = true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	token := func() json.Token {
		tok, err := dec.Token()
		require.NoError(t, err, "%q", data)
		return tok
	}
	require.Equal(t, json.Delim('{'), token())
	var infoSubdir string
	for dec.More() {
		key := token().(string)
		switch {
		case key == "packages" || key == "packages.conda":
			if tok := token(); tok == nil {
				continue
			} else {
				require.Equal(t, json.Delim('{'), tok, "%q", data)
			}
			for dec.More() {
				f := token().(string)
				var raw json.RawMessage
				require.NoError(t, dec.Decode(&raw))
				if want[f] {
					counts[f]++
					raws[f] = raw
				}
			}
			require.Equal(t, json.Delim('}'), token())
		case key == "info":
			var info struct{ Subdir string }
			require.NoError(t, dec.Decode(&info))
			infoSubdir = info.Subdir
		default:
			var skip json.RawMessage
			require.NoError(t, dec.Decode(&skip))
		}
	}
	return counts, raws, infoSubdir
}

// namesIn returns file names to look for in data: the contents of its
// quoted strings, as written and decoded, those whose bit (of 16, in
// turn) pick has.
func namesIn(data []byte, pick uint16) []string {
	var names []string
	parts := bytes.Split(data, []byte(`"`))
	for i, k := 1, 0; i < len(parts) && len(names) < 24; i, k = i+2, k+1 {
		if pick&(1<<(k%16)) == 0 {
			continue
		}
		names = append(names, string(parts[i]))
		var s string
		if json.Unmarshal([]byte(`"`+string(parts[i])+`"`), &s) == nil && s != string(parts[i]) {
			names = append(names, s)
		}
	}
	return names
}

const want1 = "want-1-0.conda"

// hostileDocs hide, forge, repeat and break records around want1.
var hostileDocs = []string{
	// Records hidden in strings, or strings that seem to hide them.
	`{"packages":{"a.conda":{"x":"\"},\"want-1-0.conda\":{\"name\":\"evil\"}"}}}`,
	`{"packages":{"a.conda":{"x":"\\"},"want-1-0.conda":{"name":"real"}}}`,
	`{"packages":{"a.conda":{"x":"\\\"},\"want-1-0.conda\":{}"}}}`,
	`{"packages":{"a.conda":{"x":"\\\\"},"want-1-0.conda":{"name":"real"}}}`,
	`{"packages":{"a.conda":{"x":["\"]}",{"y":"\\"}],"want-1-0.conda":{}}}}`,
	`{"packages":{"a.conda":{"x":"\u0022},\"want-1-0.conda\":{}"}}}`,
	`{"packages":{"a.conda":{"x":"'},'want-1-0.conda':{}"}}}`,
	`{"removed":["\"},\"packages\":{\"want-1-0.conda\":{}"],"packages":{}}`,
	// File names with escapes and backslashes before their quote.
	`{"packages":{"want\u002d1-0.conda":{"name":"escaped"}}}`,
	`{"packages":{"want-1-0.\u0063onda":{"name":"escaped"},"want-1-0.conda":{"name":"plain"}}}`,
	`{"packages":{"want-1-0.conda\\":{"name":"backslash"}}}`,
	`{"packages":{"want-1-0.conda\"":{"name":"quote"}}}`,
	`{"packages":{"want-1-0.conda\\\"":{}, "want-1-0.conda":{"name":"real"}}}`,
	`{"packages":{"\u0077ant-1-0.conda":{}},"packages.conda":{"want-1-0.conda":{}}}`,
	`{"packages":{"want-1-0.conda\u0000":{}}}`,
	"{\"packages\":{\"want-1-0.conda\x00\":{}}}",
	"{\"packages\":{\"want-1-0.cond\xe1\":{}}}",
	`{"packages":{"want-1-0.cond\u00e1":{}}}`,
	`{"packages":{"WANT-1-0.conda":{},"want-1-0.conda ":{}}}`,
	// Repeats.
	`{"packages":{"want-1-0.conda":{"name":"a"},"want-1-0.conda":{"name":"b"}}}`,
	`{"packages":{"want-1-0.conda":{"name":"a"}},"packages.conda":{"want-1-0.conda":{"name":"b"}}}`,
	`{"packages":{"want-1-0.conda":{"name":"a"},"want-1-0.conda":{"name":1}}}`,
	`{"packages":{"want-1-0.conda":{"name":"a","name":"b"}}}`,
	`{"packages":{"a.conda":{"name":"a","name":"b","NAME":1,"size":"x"},"want-1-0.conda":{"name":"w"}}}`,
	`{"packages":{"want-1-0.conda":{"attestations_sha256":""},"b.conda":{"attestations_sha256":null}}}`,
	`{"packages":{"want-1-0.conda":{"attestations_sha256":null}}}`,
	`{"info":{"subdir":"linux-64"},"packages":{"want-1-0.conda":{"name":"w"}}}`,
	`{"packages":{"want-1-0.conda":{"name":"w"}},"info":{"subdir":"linux-64"}}`,
	`{"packages":{},"packages":{"want-1-0.conda":{}}}`,
	`{"packages":null,"packages.conda":{"want-1-0.conda":{}}}`,
	// Structure outside strings.
	`{"packages":{"a.conda":{"x":[}},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":{]},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":/*"*/1},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":1}//},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{'x':1},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":undefined},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":NaN},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":tru},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":[1,2,]},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":1,},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":[],"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":1,"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda"{},"want-1-0.conda":{}}}`,
	`{"packages":{"":{},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":"` + "\x01" + `"},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":"\q"},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":"\u00G0"},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":"\u00"},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":"` + "\xff\xfe\xc3" + `"},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":01},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":-0.5e+7,"y":[true,false,null,{}]},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{"x":1}},"x":[}`,
	`{"packages":{"want-1-0.conda":{}},"removed":[1,2,3,"a",{"b":[]}],"y":tru}`,
	`{"packages":{"want-1-0.conda":{}}}}`,
	`{"packages":{"a.conda":{}"b.conda":{},"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{},,"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{}],"want-1-0.conda":{}}}`,
	`{"packages":{"a.conda":{},}}`,
	`{"packages":{"want-1-0.conda":{}}} {}`,
	` {"packages" : { "a.conda" : { "x" : [ 1 , { } ] } , "want-1-0.conda" : { } } } `,
}

func TestFindRecordsMatchesReference(t *testing.T) {
	t.Parallel()
	for _, doc := range append(hostileDocs, referenceSeeds...) {
		for _, pick := range []uint16{0xffff, 0x5555, 0xaaaa, 0x0f0f} {
			checkFindRecords(t, []byte(doc), append([]string{want1}, namesIn([]byte(doc), pick)...), 3)
		}
		checkFindRecords(t, []byte(doc), []string{want1}, 7)
		for n := range len(doc) { // every truncation
			checkFindRecords(t, []byte(doc[:n]), []string{want1}, 5)
		}
	}
	doc := syntheticRepodata(400)
	var wanted []string
	for i := 0; i < 400; i += 37 {
		wanted = append(wanted, syntheticFilename(i, 400))
	}
	checkFindRecords(t, doc, append(wanted, "absent.conda"), 4093)
}

// FuzzFindRecords: FindRecords gives exactly the answers of the reference
// scanner, of a full decode where that accepts the document, and of
// encoding/json, for the file names of names (one a line) and those quoted
// in data that pick picks, through reads of chunk bytes.
func FuzzFindRecords(f *testing.F) {
	for i, doc := range append(hostileDocs, referenceSeeds...) {
		f.Add([]byte(doc), want1, uint8(3), uint16(0))
		f.Add([]byte(doc), "", uint8(i), uint16(0x5555<<(i%2)))
	}
	f.Add(syntheticRepodata(20), syntheticFilename(3, 20)+"\n"+syntheticFilename(17, 20), uint8(200), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, names string, chunk uint8, pick uint16) {
		wanted := append(strings.Split(names, "\n"), namesIn(data, pick)...)
		checkFindRecords(t, data, wanted, int(chunk))
	})
}

// wrapOther puts value in a record that is not wanted, before the wanted
// one, and under a key of the document's own; and, when it is an object,
// makes it that record.
func wrapOther(value string) []string {
	docs := []string{
		`{"packages":{"a.conda":{"x":` + value + `},"want-1-0.conda":{"name":"w"}}}`,
		`{"packages":{"want-1-0.conda":{"name":"w"}},"other":` + value + `}`,
	}
	if strings.HasPrefix(value, "{") {
		docs = append(docs, `{"packages":{"a.conda":`+value+`,"want-1-0.conda":{"name":"w"}}}`)
	}
	return docs
}

// TestFindRecordsSkipsOnlyJSON: a value that is not JSON fails the document
// wherever it is, in a record that is not wanted too, read whole or a byte
// at a time. Each case fails without its own check in skipNested.
func TestFindRecordsSkipsOnlyJSON(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		// Closing what is not open, or not closing.
		`[}`, `{]`, `[1}`, `{"a":1]`, `{"a":}`, `]`, `}`, `[`, `{`, `[[[`, `{"a":{"b":[1,{"c":}]}}`,
		// Commas, colons and keys out of place.
		`[1,]`, `{"a":1,}`, `{"a"}`, `{"a" "b"}`, `["a" "b"]`, `["a":1]`, `[1:2]`, `{"a"::1}`, `{"a":1:2}`,
		`[,1]`, `[1,,2]`, `{,}`, `{"a",1}`, `{"a" {}}`, `[1 [2]]`, `{{}}`, `{[]:1}`, `[1 true]`, `{true:1}`,
		`{1:2}`, `{"a":1 "b":2}`, `[1 2]`, `[] []`, `1 2`, `[]{}`, `{"a":1}{}`, `,`, `:`, `{:1}`,
		// Literals.
		`tru`, `nul`, `fals`, `trUe`, `nulll`, `truex`, `true1`, `True`, `NULL`, `[t]`, `[f,n]`,
		// Numbers.
		`01`, `-`, `-a`, `1.`, `1.a`, `1e`, `1e+`, `1ea`, `.5`, `+1`, `1.e5`, `--1`, `0x10`, `1e5.0`, `- 1`, `1-`, `00`, `-01`, `1 .5`,
		// Not JSON at all.
		`/* c */ 1`, "// c\n1", `'a'`, `foo`, `NaN`, `Infinity`, `-Infinity`, "\x00", "\xef\xbb\xbf1", `#`, `@`, `\`, `()`,
		"\"a\"\x00", `undefined`,
		// Strings.
		"\"\x01\"", "\"a\nb\"", "\"\t\"", "\"\x1f\"", `"\x"`, `"\'"`, `"\u12G4"`, `"\u12"`, `"\u"`, `"\U0041"`,
		`"\ud800\u12G4"`, `"abc`, `"a\"`, `"a\\\"`, `["a`, `{"a`, `{"a":"b`,
		`"` + strings.Repeat("a", 40<<10) + `\x"`, // cut by the read buffer, then bad
	} {
		for _, doc := range wrapOther(bad) {
			for how, r := range skimReaders([]byte(doc), 2) {
				_, err := fetch.FindRecords(r, []string{want1})
				assert.True(t, (fetch.KindOf(err) == fetch.KindMalformed), "%q read %s: %v", doc, how, err)
			}
		}
	}
}

// TestFindRecordsSkipsJSON: what JSON allows passes in a record that is
// not wanted, read whole or a byte at a time.
func TestFindRecordsSkipsJSON(t *testing.T) {
	t.Parallel()
	for _, good := range []string{
		`[]`, `{}`, `[[]]`, `{"a":[]}`, `[{}]`, `-0`, `0`, `0.5e-7`, `1E+2`, `-12.34E56`, `123456789012345678901234567890`,
		`"\"}"`, `"\\"`, `"\\\""`, `"\u00e9\ud83d\ude00\uD800"`, "\"\xff\xfe\x7f\"", `"\/\b\f\n\r\t"`, `"\u0022"`,
		`[true,false,null]`, " [ 1 ,\t2\r,\n3 ] ", `{"a":{"b":{"c":[1,{"d":"e"}]}}}`, `{"a":1,"a":2}`,
		`"` + strings.Repeat("a\\\"", 20<<10) + `"`, // cut by the read buffer
		`[` + strings.Repeat(`123456789,`, 10<<10) + `0]`,
		`[` + strings.Repeat(`true,null,false,`, 10<<10) + `0]`,
	} {
		for _, doc := range wrapOther(good) {
			for how, r := range skimReaders([]byte(doc), 2) {
				found, err := fetch.FindRecords(r, []string{want1})
				require.NoError(t, err, "%q read %s", doc, how)
				assert.Equal(t, "w", found[want1].Record.Name)
			}
		}
	}
}

// TestFindRecordsFileNames: a wanted file is found however its name is
// written, and counted every time.
func TestFindRecordsFileNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc  string
		want string // the record's name, "" for not found, "twice" for malformed
	}{
		{`{"packages":{"want\u002d1-0.conda":{"name":"e"}}}`, "e"},
		{`{"packages":{"\u0077\u0061\u006e\u0074\u002d\u0031\u002d\u0030\u002e\u0063\u006f\u006e\u0064\u0061":{"name":"e"}}}`, "e"},
		{`{"packages":{"want-1-0.conda\\":{"name":"x"}}}`, ""},
		{`{"packages":{"want-1-0.conda\"":{"name":"x"}}}`, ""},
		{`{"packages":{"want-1-0.conda\u0000":{"name":"x"}}}`, ""},
		{`{"packages":{"want-1-0.conda":{"name":"p"},"want-1-0\u002econda":{"name":"e"}}}`, "twice"},
		{`{"packages":{"want\/1-0.conda":{},"want-1-0.conda":{"name":"p"}}}`, "p"},
		{`{"packages":{"want-1-0.conda":{"name":"p"}},"packages.conda":{"want\u002D1-0.conda":{"name":"e"}}}`, "twice"},
		{`{"packages":{"a.conda":{"x":"\",\"want-1-0.conda\":{"}}}`, ""},
		{`{"packages":{"a.conda":{"x":"\\"},"want-1-0.conda":{"name":"p"}}}`, "p"},
	} {
		for how, r := range skimReaders([]byte(tt.doc), 3) {
			found, err := fetch.FindRecords(r, []string{want1})
			require.NoError(t, err, "%s read %s", tt.doc, how)
			got := found[want1]
			switch tt.want {
			case "":
				assert.True(t, (fetch.KindOf(got.Err) == fetch.KindNotFound), "%s read %s: %v", tt.doc, how, got.Err)
			case "twice":
				assert.True(t, (fetch.KindOf(got.Err) == fetch.KindMalformed), "%s read %s: %v", tt.doc, how, got.Err)
			default:
				require.NoError(t, got.Err, "%s read %s", tt.doc, how)
				assert.Equal(t, tt.want, got.Record.Name, "%s read %s", tt.doc, how)
			}
		}
	}
}

// TestFindRecordsSkippedRecordsAreNotDecoded: a record that is not wanted
// is held to JSON, not to a record's rules, which a full decode applies;
// a wanted one is held to both.
func TestFindRecordsSkippedRecordsAreNotDecoded(t *testing.T) {
	t.Parallel()
	doc := `{"packages":{"a.conda":{"sha256":"a","SHA256":"b","size":"big","name":1},"want-1-0.conda":{"name":"w"}}}`
	found, err := fetch.FindRecords(strings.NewReader(doc), []string{want1})
	require.NoError(t, err)
	assert.Equal(t, "w", found[want1].Record.Name)
	_, err = fetch.FindRecordsFullDecode(strings.NewReader(doc), []string{want1})
	requireKind(t, err, fetch.KindMalformed)
	_, err = fetch.FindRecords(strings.NewReader(doc), []string{want1, "a.conda"})
	requireKind(t, err, fetch.KindMalformed)
}

// TestFindRecordsCaps: the caps hold in records that are not wanted and in
// skipped keys: 1 MiB a record, a string or number, 64 KiB a file name,
// nesting.
func TestFindRecordsCaps(t *testing.T) {
	t.Parallel()
	big := func(n int) string { return strings.Repeat("s", n) }
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tt := range []struct {
		doc string
		ok  bool
	}{
		{`{"packages":{"a.conda":{"x":"` + big(900<<10) + `"},"want-1-0.conda":{}}}`, true},
		{`{"packages":{"a.conda":{"x":"` + big(fetch.MaxRecordSize) + `"},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":{"x":[` + strings.Repeat(`"`+big(30<<10)+`",`, 40) + `0]},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":{"x":[` + strings.Repeat(`1234567890,`, 100<<10) + `0]},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"want-1-0.conda":{"x":"` + big(fetch.MaxRecordSize) + `"}}}`, false},
		{`{"packages":{"want-1-0.conda":{}},"removed":["` + big(900<<10) + `"]}`, true},
		{`{"packages":{"want-1-0.conda":{}},"removed":["` + big(fetch.MaxRecordSize+1) + `"]}`, false},
		{`{"packages":{"want-1-0.conda":{}},"removed":[` + strings.Repeat("1", fetch.MaxRecordSize+1) + `]}`, false},
		{`{"packages":{"` + big(20<<10) + `.conda":{},"want-1-0.conda":{}}}`, true},
		{`{"packages":{"` + big(70<<10) + `.conda":{},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":{"x":` + nest(10000) + `},"want-1-0.conda":{}}}`, true},
		{`{"packages":{"a.conda":{"x":` + nest(10001) + `},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"want-1-0.conda":{}},"x":` + nest(10000) + `}`, true},
		{`{"packages":{"want-1-0.conda":{}},"x":` + nest(10001) + `}`, false},
	} {
		for _, find := range []func(io.Reader, []string) (map[string]fetch.Found, error){fetch.FindRecords, fetch.FindRecordsSkimReference} {
			for how, r := range skimReaders([]byte(tt.doc), 4096) {
				if how == "one byte" && len(tt.doc) > 200<<10 {
					continue
				}
				found, err := find(r, []string{want1})
				if tt.ok {
					require.NoError(t, err, "%.80s read %s", tt.doc, how)
					require.NoError(t, found[want1].Err)
				} else {
					requireKind(t, err, fetch.KindMalformed)
				}
			}
		}
	}
}

// TestFindRecordsReaderErrorKeepsItsKind: a capped reader's too-large
// failure, met while skipping, stays too-large.
func TestFindRecordsReaderErrorKeepsItsKind(t *testing.T) {
	t.Parallel()
	doc := syntheticRepodata(200)
	r := &fuzzCappedReader{r: bytes.NewReader(doc), left: int64(len(doc) / 2), limit: int64(len(doc) / 2)}
	_, err := fetch.FindRecords(r, []string{syntheticFilename(3, 200)})
	requireKind(t, err, fetch.KindTooLarge)
}

// TestFindRecordsAllocations: records that are not wanted cost no
// allocation: FindRecords allocates about as much for 2,000 records as for
// 20 (the margin is for the race detector, whose sync.Pool drops items).
func TestFindRecordsAllocations(t *testing.T) {
	small, large := syntheticRepodata(20), syntheticRepodata(2000)
	wanted := []string{syntheticFilename(3, 20), syntheticFilename(7, 20)} // in both
	allocs := func(doc []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			found, err := fetch.FindRecords(bytes.NewReader(doc), wanted)
			if err != nil || found[wanted[0]].Err != nil || found[wanted[1]].Err != nil {
				t.Fatal(err, found[wanted[0]].Err, found[wanted[1]].Err)
			}
		})
	}
	a, b := allocs(small), allocs(large)
	t.Logf("%.0f allocations for 20 records, %.0f for 2,000", a, b)
	assert.LessOrEqual(t, b, a+20)
}

// TestFindRecordsRecordRules: a record that is not wanted still needs a
// file name that is not empty and under 64 KiB, a colon, an object, and
// at most 1 MiB from its name's quote to its closing brace.
func TestFindRecordsRecordRules(t *testing.T) {
	t.Parallel()
	// A record of n bytes: `"a.conda":{"x":"` is 16 of them, `"}` 2.
	sized := func(name string, n int) string {
		return `"` + name + `":{"x":"` + strings.Repeat("p", n-len(name)-11) + `"}`
	}
	for _, tt := range []struct {
		doc string
		ok  bool
	}{
		{`{"packages":{"a.conda":1,"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":[],"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":"{}","want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":null,"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda" {},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda",{},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"":{},"want-1-0.conda":{}}}`, false},
		{`{"packages":{a.conda:{},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":{}"b.conda":{},"want-1-0.conda":{}}}`, false},
		{`{"packages":{"a.conda":{},,"want-1-0.conda":{}}}`, false},
		{`{"packages":{"want-1-0.conda":{},}}`, false},
		{`{"packages":{` + sized("a.conda", fetch.MaxRecordSize) + `,"want-1-0.conda":{}}}`, true},
		{`{"packages":{` + sized("a.conda", fetch.MaxRecordSize+1) + `,"want-1-0.conda":{}}}`, false},
		{`{"packages":{` + sized(want1, fetch.MaxRecordSize) + `}}`, true},
		{`{"packages":{` + sized(want1, fetch.MaxRecordSize+1) + `}}`, false},
		{`{"packages":{"` + strings.Repeat("n", 64<<10) + `":{},"want-1-0.conda":{}}}`, true},
		{`{"packages":{"` + strings.Repeat("n", 64<<10+1) + `":{},"want-1-0.conda":{}}}`, false},
	} {
		for _, size := range []int{len(tt.doc), 4096, 1000, 3} {
			found, err := fetch.FindRecords(chunkReader{strings.NewReader(tt.doc), size}, []string{want1})
			if tt.ok {
				require.NoError(t, err, "%.80s", tt.doc)
				require.NoError(t, found[want1].Err)
			} else {
				require.Equal(t, fetch.KindMalformed, fetch.KindOf(err), "%.80s read %d at a time", tt.doc, size)
			}
		}
	}
}

// TestFindRecordsNamesOutsideASCII: a name with bytes outside ASCII is
// decoded before it is looked up, as a full decode does: invalid UTF-8
// becomes U+FFFD.
func TestFindRecordsNamesOutsideASCII(t *testing.T) {
	t.Parallel()
	doc := "{\"packages\":{\"w\xc3\xa4nt-1-0.conda\":{\"name\":\"raw\"},\"x\xff.conda\":{\"name\":\"invalid\"}}," +
		`"packages.conda":{"w\u00e4nt-2-0.conda":{"name":"escaped"}}}`
	wanted := []string{"wänt-1-0.conda", "wänt-2-0.conda", "x\uFFFD.conda", "x\xff.conda"}
	for how, r := range skimReaders([]byte(doc), 5) {
		found, err := fetch.FindRecords(r, wanted)
		require.NoError(t, err, how)
		assert.Equal(t, "raw", found[wanted[0]].Record.Name, how)
		assert.Equal(t, "escaped", found[wanted[1]].Record.Name, how)
		assert.Equal(t, "invalid", found[wanted[2]].Record.Name, how)
		assert.Equal(t, fetch.KindNotFound, fetch.KindOf(found[wanted[3]].Err), how)
	}
	checkFindRecords(t, []byte(doc), wanted, 5)
}
