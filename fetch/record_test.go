package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

const attDigest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// repodataDoc has both sections, an info.subdir that comes first, a record
// that names its own subdir, one without sha256, and keys to skip.
const repodataDoc = `{
  "info": {"subdir": "linux-64", "base_url": "https://example.org/chan"},
  "repodata_version": 2,
  "packages": {
    "a-1.0-0.tar.bz2": {"name": "a", "version": "1.0", "build": "0", "build_number": 0,
      "size": 10, "sha256": "aaaa", "md5": "bbbb", "depends": ["python >=3.9", {"nested": [1, 2]}]},
    "b-2.0-1.tar.bz2": {"name": "b", "version": "2.0", "build": "1", "build_number": 1, "subdir": "noarch",
      "attestations_sha256": "` + attDigest + `"}
  },
  "removed": ["old-1.0-0.tar.bz2"],
  "packages.conda": {
    "c-3.0-py312_0.conda": {"name": "c", "version": "3.0", "build": "py312_0", "build_number": 0,
      "sha256": "cccc", "attestations_sha256": "` + attDigest + `", "unknown_field": {"x": null}}
  }
}
`

func scanAll(t *testing.T, doc string) ([]fetch.Record, error) {
	t.Helper()
	var recs []fetch.Record
	err := fetch.ScanRepodata(strings.NewReader(doc), func(r fetch.Record) bool {
		recs = append(recs, r)
		return true
	})
	return recs, err
}

func TestScanRepodataBothSections(t *testing.T) {
	t.Parallel()
	recs, err := scanAll(t, repodataDoc)
	require.NoError(t, err)
	require.Equal(t, []fetch.Record{
		{Filename: "a-1.0-0.tar.bz2", Name: "a", Version: "1.0", Build: "0", Subdir: "linux-64",
			Size: 10, SHA256: "aaaa", MD5: "bbbb"},
		{Filename: "b-2.0-1.tar.bz2", Name: "b", Version: "2.0", Build: "1", BuildNumber: 1, Subdir: "noarch",
			AttestationsSHA256: attDigest},
		{Filename: "c-3.0-py312_0.conda", Name: "c", Version: "3.0", Build: "py312_0", Subdir: "linux-64",
			SHA256: "cccc", AttestationsSHA256: attDigest},
	}, recs)
	assert.False(t, recs[0].HasAttestations())
	assert.True(t, recs[1].HasAttestations())
	assert.True(t, recs[2].HasAttestations())
}

// info.subdir is the subdir of every record without its own, wherever
// "info" is written, as for any JSON parser. ScanRepodata has handed the
// records over when a late "info" comes: it refuses the document, unless
// every record had a subdir of its own. FindRecords fills it in.
func TestScanRepodataInfoAfterPackages(t *testing.T) {
	t.Parallel()
	_, err := scanAll(t, `{"packages.conda": {"x.conda": {"name": "x"}}, "info": {"subdir": "linux-64"}}`)
	assert.Equal(t, fetch.KindMalformed, fetch.KindOf(err), "%v", err)
	recs, err := scanAll(t, `{"packages.conda": {"x.conda": {"name": "x", "subdir": "noarch"}}, "info": {"subdir": "linux-64"}}`)
	require.NoError(t, err)
	assert.Equal(t, "noarch", recs[0].Subdir)
	recs, err = scanAll(t, `{"packages.conda": {"x.conda": {"name": "x"}}, "info": {}}`)
	require.NoError(t, err)
	assert.Equal(t, "", recs[0].Subdir)

	found, err := fetch.FindRecords(strings.NewReader(`{"packages.conda": {"x-1-0.conda": {"name": "x"}}, "info": {"subdir": "linux-64"}}`), []string{"x-1-0.conda"})
	require.NoError(t, err)
	assert.Equal(t, "linux-64", found["x-1-0.conda"].Record.Subdir)
}

func TestScanRepodataRecordWithoutSHA256(t *testing.T) {
	t.Parallel()
	recs, err := scanAll(t, `{"packages": {"x-1-0.tar.bz2": {"name": "x", "version": "1", "build": "0", "build_number": 0}}}`)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "x-1-0.tar.bz2", recs[0].Filename)
	assert.Empty(t, recs[0].SHA256)
	assert.False(t, recs[0].HasAttestations())
}

func TestScanRepodataEmptyAndNull(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{}`,
		` {"packages": null, "packages.conda": null} `,
		`{"packages": {}, "packages.conda": {}}`,
		`{"info": null, "packages": {}}`,
		"{}\n\n\t ",
	} {
		recs, err := scanAll(t, doc)
		require.NoErrorf(t, err, "%q", doc)
		assert.Emptyf(t, recs, "%q", doc)
	}
}

// TestScanRepodataEmptyAttestationsIsAdvertised: a present key with an
// empty or null value is an invalid advertisement, never "unsigned".
func TestScanRepodataEmptyAttestationsIsAdvertised(t *testing.T) {
	t.Parallel()
	for _, v := range []string{`null`, `""`} {
		recs, err := scanAll(t, `{"packages.conda": {"x.conda": {"name": "x", "attestations_sha256": `+v+`}}}`)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.True(t, recs[0].HasAttestations(), v)
		assert.Empty(t, recs[0].AttestationsSHA256)
	}
	recs, err := scanAll(t, `{"packages.conda": {"x.conda": {"name": "x"}}}`)
	require.NoError(t, err)
	assert.False(t, recs[0].HasAttestations())
}

// TestScanRepodataAmbiguousRecords: records that parsers read differently
// are refused.
func TestScanRepodataAmbiguousRecords(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"case variant of sha256":      `{"packages.conda": {"x.conda": {"sha256": "aa", "SHA256": "bb"}}}`,
		"case variant alone":          `{"packages.conda": {"x.conda": {"Sha256": "bb"}}}`,
		"duplicate sha256":            `{"packages.conda": {"x.conda": {"sha256": "aa", "sha256": "bb"}}}`,
		"duplicate attestations key":  `{"packages.conda": {"x.conda": {"attestations_sha256": "aa", "attestations_sha256": "bb"}}}`,
		"case variant of attestation": `{"packages.conda": {"x.conda": {"Attestations_SHA256": "bb"}}}`,
		"duplicate unknown key":       `{"packages.conda": {"x.conda": {"license": "MIT", "license": "GPL"}}}`,
	} {
		_, err := scanAll(t, doc)
		assert.ErrorIs(t, err, fetch.KindMalformed, name)
	}
	_, err := findRecord(strings.NewReader(`{"packages.conda": {"x.conda": {"sha256": "aa"}, "x.conda": {"sha256": "bb"}}}`), "x.conda")
	assert.ErrorIs(t, err, fetch.KindMalformed, "a filename listed twice")
}

func TestScanRepodataMalformed(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"empty":                      ``,
		"whitespace":                 "  \n",
		"top-level array":            `[]`,
		"top-level null":             `null`,
		"top-level string":           `"packages"`,
		"packages is an array":       `{"packages": []}`,
		"packages is a string":       `{"packages": "x"}`,
		"packages.conda is a number": `{"packages.conda": 1}`,
		"record is a string":         `{"packages": {"x.tar.bz2": "x"}}`,
		"record is a number":         `{"packages.conda": {"x.conda": 1}}`,
		"record is an array":         `{"packages.conda": {"x.conda": []}}`,
		"record is null":             `{"packages.conda": {"x.conda": null}}`,
		"record is true":             `{"packages.conda": {"x.conda": true}}`,
		"field of the wrong type":    `{"packages.conda": {"x.conda": {"build_number": "0"}}}`,
		"digest of the wrong type":   `{"packages.conda": {"x.conda": {"attestations_sha256": 5}}}`,
		"info is a string":           `{"info": "linux-64"}`,
		"info.subdir is a number":    `{"info": {"subdir": 64}}`,
		"trailing object":            `{}{}`,
		"trailing garbage":           `{"packages": {}} x`,
		"trailing bracket":           `{"packages": {}}]`,
		"trailing comma":             `{"packages": {},}`,
		"unquoted key":               `{packages: {}}`,
		"invalid skipped value":      `{"removed": [1,,2], "packages": {}}`,
		"truncated in a record":      `{"packages": {"x.conda": {"name": "x"`,
		"truncated after a record":   `{"packages": {"x.conda": {"name": "x"}}`,
		"truncated in a key":         `{"packa`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := scanAll(t, doc)
			requireKind(t, err, fetch.KindMalformed)
		})
	}
}

func TestScanRepodataEveryTruncationIsMalformed(t *testing.T) {
	t.Parallel()
	doc := strings.TrimSpace(repodataDoc)
	for n := 0; n < len(doc); n++ {
		_, err := scanAll(t, doc[:n])
		requireKind(t, err, fetch.KindMalformed)
	}
}

func TestScanRepodataStopsEarly(t *testing.T) {
	t.Parallel()
	// Garbage after the record where the scan stops is never read.
	for _, tt := range []struct{ section, stopAt string }{
		{"packages", "a.tar.bz2"},
		{"packages.conda", "a.conda"},
	} {
		doc := `{"` + tt.section + `": {"` + tt.stopAt + `": {"name": "a"}, "b": {"name": "b"}, !!! not json`
		calls := 0
		err := fetch.ScanRepodata(strings.NewReader(doc), func(r fetch.Record) bool {
			calls++
			assert.Equal(t, tt.stopAt, r.Filename)
			return false
		})
		require.NoError(t, err)
		assert.Equal(t, 1, calls)
	}

	// Stopping in "packages" skips "packages.conda" altogether.
	var seen []string
	err := fetch.ScanRepodata(strings.NewReader(repodataDoc), func(r fetch.Record) bool {
		seen = append(seen, r.Filename)
		return r.Filename != "b-2.0-1.tar.bz2"
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a-1.0-0.tar.bz2", "b-2.0-1.tar.bz2"}, seen)
}

func TestScanRepodataReadsOneRecordAtATime(t *testing.T) {
	t.Parallel()
	// The scan works through a reader that yields one byte per call.
	var names []string
	err := fetch.ScanRepodata(iotest.OneByteReader(strings.NewReader(repodataDoc)), func(r fetch.Record) bool {
		names = append(names, r.Name)
		return true
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, names)
}

// failingReader yields data, then fails with err instead of io.EOF.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestScanRepodataReaderFailureKeepsItsKind(t *testing.T) {
	t.Parallel()
	tooLarge := &fetch.Error{Kind: fetch.KindTooLarge, Msg: "larger than the cap"}
	doc := strings.TrimSpace(repodataDoc)
	// Cut anywhere, including after the closing brace: the reader's failure
	// is reported, not "malformed".
	for _, n := range []int{0, 1, len(doc) / 2, len(doc) - 1, len(doc)} {
		err := fetch.ScanRepodata(&failingReader{strings.NewReader(doc[:n]), tooLarge}, func(fetch.Record) bool { return true })
		requireKind(t, err, fetch.KindTooLarge)
	}

	// A reader failure that is no fetch failure is kept in the chain.
	boom := errors.New("disk on fire")
	err := fetch.ScanRepodata(&failingReader{strings.NewReader(doc[:10]), boom}, func(fetch.Record) bool { return true })
	requireKind(t, err, fetch.KindMalformed)
	require.ErrorIs(t, err, boom)
}

func TestFindRecord(t *testing.T) {
	t.Parallel()
	rec, err := findRecord(strings.NewReader(repodataDoc), "b-2.0-1.tar.bz2")
	require.NoError(t, err)
	assert.Equal(t, "b", rec.Name)
	assert.Equal(t, "noarch", rec.Subdir)

	rec, err = findRecord(strings.NewReader(repodataDoc), "c-3.0-py312_0.conda")
	require.NoError(t, err)
	assert.Equal(t, "c", rec.Name)
	assert.Equal(t, attDigest, rec.AttestationsSHA256)

	// The whole document is read: a filename listed twice, or garbage after
	// the match, is malformed, never "the first match wins".
	_, err = findRecord(strings.NewReader(`{"packages": {"x.conda": {"name": "first"}, "x.conda": {"name": "second"}}}`), "x.conda")
	assert.ErrorIs(t, err, fetch.KindMalformed)
	_, err = findRecord(strings.NewReader(`{"packages": {"x.conda": {"name": "first"}}} garbage`), "x.conda")
	assert.ErrorIs(t, err, fetch.KindMalformed)
}

func TestFindRecordNotFound(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"missing-1.0-0.conda", "a-1.0-0.conda", "", "A-1.0-0.tar.bz2"} {
		rec, err := findRecord(strings.NewReader(repodataDoc), name)
		fe := requireKind(t, err, fetch.KindNotFound)
		assert.Contains(t, fe.Error(), strconv.Quote(name))
		assert.Equal(t, fetch.Record{}, rec)
	}
}

func TestFindRecordMalformed(t *testing.T) {
	t.Parallel()
	_, err := findRecord(strings.NewReader(`{"packages": {"x.conda": 1}}`), "x.conda")
	requireKind(t, err, fetch.KindMalformed)
	// Malformed data before the wanted record is not "not found".
	_, err = findRecord(strings.NewReader(`{"packages": {"a.conda": {}, "x.conda": `), "y.conda")
	requireKind(t, err, fetch.KindMalformed)
}

func TestOpenRepodataOverTheCap(t *testing.T) {
	t.Parallel()
	doc := []byte(repodataDoc)
	for _, tt := range []struct {
		name    string
		chunked bool
	}{{"content-length", false}, {"chunked", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					writeChunked(w, doc)
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
				_, _ = w.Write(doc)
			})
			ctx := context.Background()
			u := srv.URL + "/chan/linux-64/repodata.json"

			// At the cap, the document scans.
			c := newClient(t, fetch.Options{MaxRepodataSize: int64(len(doc))})
			body, err := c.OpenRepodata(ctx, u)
			require.NoError(t, err)
			recs := 0
			require.NoError(t, fetch.ScanRepodata(body, func(fetch.Record) bool { recs++; return true }))
			require.NoError(t, body.Close())
			assert.Equal(t, 3, recs)

			// One byte under, it fails as too large, never as malformed:
			// with a Content-Length when opened, or while scanning.
			c = newClient(t, fetch.Options{MaxRepodataSize: int64(len(doc) - 1)})
			body, err = c.OpenRepodata(ctx, u)
			if !tt.chunked {
				requireKind(t, err, fetch.KindTooLarge)
				return
			}
			require.NoError(t, err)
			defer body.Close()
			err = fetch.ScanRepodata(body, func(fetch.Record) bool { return true })
			requireKind(t, err, fetch.KindTooLarge)
		})
	}
}

func TestScanRepodataEveryCapIsTooLarge(t *testing.T) {
	t.Parallel()
	// Through a file:// URL, for every cap short of the document, trailing
	// whitespace included: always too large, never malformed.
	doc := repodataDoc + "\n\n\n"
	p := writeFile(t, t.TempDir(), "chan/linux-64/repodata.json", []byte(doc))
	for limit := 1; limit < len(doc); limit++ {
		c := fetch.New(fetch.Options{AllowFile: true, MaxRepodataSize: int64(limit)})
		body, err := c.OpenRepodata(context.Background(), fileURL(p))
		require.NoError(t, err)
		err = fetch.ScanRepodata(body, func(fetch.Record) bool { return true })
		body.Close()
		if !errors.Is(err, fetch.KindTooLarge) {
			t.Fatalf("cap %d of %d: got %v (kind %q), want too-large", limit, len(doc), err, fetch.KindOf(err))
		}
	}
}

// TestScanRepodataAmbiguousDocument: "info" is read as strictly as a
// record, and the keys ScanRepodata reads at the top may appear once.
func TestScanRepodataAmbiguousDocument(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"info.subdir twice":         `{"info": {"subdir": "linux-64", "subdir": "osx-64"}}`,
		"case variant of subdir":    `{"info": {"SUBDIR": "osx-64"}}`,
		"another info key twice":    `{"info": {"base_url": "a", "base_url": "b"}}`,
		"info twice":                `{"info": {"subdir": "linux-64"}, "info": null}`,
		"packages twice":            `{"packages": {}, "packages": {}}`,
		"packages.conda twice":      `{"packages.conda": null, "packages.conda": {}}`,
		"escaped packages repeated": `{"packages": {}, "p\u0061ckages": {}}`,
	} {
		_, err := scanAll(t, doc)
		requireKind(t, err, fetch.KindMalformed)
		assert.Regexp(t, `appears twice|only in case`, err.Error(), name)
	}
}

// TestScanRepodataCaps: a record of exactly maxRecordSize bytes, and any
// other string of that many, scan; one byte more is malformed, however
// the record's bytes are spent.
func TestScanRepodataCaps(t *testing.T) {
	t.Parallel()
	const max = fetch.MaxRecordSize
	// record returns a record of n bytes, whose bytes are mostly in the
	// value of key, made of fill.
	record := func(key, fill string, n int) string {
		head, tail := `"a.conda":{"`+key+`":`, `}`
		return head + fill[:1] + strings.Repeat(fill[1:2], n-len(head)-len(tail)-2) + fill[2:] + tail
	}
	for _, tt := range []struct {
		name, key, fill string
	}{
		{"a skipped string", "license", `"x"`},
		{"a skipped array", "depends", `[ ]`},
		{"white space", "build_number", `0  `},
		{"a skipped number", "timestamp", `100`},
	} {
		for _, n := range []int{max, max + 1} {
			doc := `{"packages.conda":{` + record(tt.key, tt.fill, n) + `}}`
			recs, err := scanAll(t, doc)
			if n == max {
				require.NoError(t, err, tt.name)
				require.Len(t, recs, 1)
				continue
			}
			requireKind(t, err, fetch.KindMalformed)
			assert.Contains(t, err.Error(), "1048576 bytes", tt.name)
		}
	}

	// Outside records, each string or number is capped alike.
	for _, n := range []int{max, max + 1} {
		for _, doc := range []string{
			`{"removed":["` + strings.Repeat("r", n-2) + `"]}`,
			`{"info":{"base_url":"` + strings.Repeat("u", n-2) + `"}}`,
			`{"repodata_version":1` + strings.Repeat("0", n-1) + `}`,
		} {
			_, err := scanAll(t, doc)
			if n == max {
				require.NoError(t, err)
				continue
			}
			requireKind(t, err, fetch.KindMalformed)
			assert.Contains(t, err.Error(), "1048576 bytes")
		}
	}
}

// TestScanRepodataKeptStrings: a record keeps at most 64 KiB of keys and
// strings, its file name included.
func TestScanRepodataKeptStrings(t *testing.T) {
	t.Parallel()
	const kept = 64 << 10
	filename := strings.Repeat("f", 1000) + ".conda"
	// The name field's key and value take what the file name leaves.
	name := kept - len(filename) - len("name") - 64
	recs, err := scanAll(t, `{"packages.conda":{"`+filename+`":{"name":"`+strings.Repeat("n", name)+`"}}}`)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Len(t, recs[0].Name, name)
	_, err = scanAll(t, `{"packages.conda":{"`+filename+`":{"name":"`+strings.Repeat("n", name+1)+`"}}}`)
	requireKind(t, err, fetch.KindMalformed)
	assert.Contains(t, err.Error(), "may keep")

	// Keys count 64 bytes more than their length: 900 short keys fit,
	// 1,100 do not.
	keys := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%d":0`, i)
		}
		return `{"packages.conda":{"a.conda":{` + b.String() + `}}}`
	}
	_, err = scanAll(t, keys(900))
	require.NoError(t, err)
	_, err = scanAll(t, keys(1100))
	requireKind(t, err, fetch.KindMalformed)
	assert.Contains(t, err.Error(), "may keep")

	// A file name, a top-level key: 64 KiB at most.
	for _, doc := range []string{
		`{"packages.conda":{"` + strings.Repeat("f", kept+1) + `":{}}}`,
		`{"` + strings.Repeat("k", kept+1) + `":0}`,
		`{"info":{"subdir":"` + strings.Repeat("s", kept) + `"}}`,
	} {
		_, err := scanAll(t, doc)
		requireKind(t, err, fetch.KindMalformed)
		assert.Contains(t, err.Error(), "longer than")
	}
}

func TestScanRepodataNesting(t *testing.T) {
	t.Parallel()
	nested := func(n int) string {
		return `{"packages.conda":{"a.conda":{"x":` + strings.Repeat(`[{"k":`, n/2) + `0` + strings.Repeat(`}]`, n/2) + `}}}`
	}
	_, err := scanAll(t, nested(10000))
	require.NoError(t, err)
	_, err = scanAll(t, nested(10002))
	requireKind(t, err, fetch.KindMalformed)
	assert.Contains(t, err.Error(), "nested deeper")
}

// badReader returns counts no reader may return.
type badReader struct{ n int }

func (b badReader) Read(p []byte) (int, error) { return b.n, nil }

func TestScanRepodataMisbehavingReader(t *testing.T) {
	t.Parallel()
	for _, n := range []int{-1, 1 << 30, 0} {
		err := fetch.ScanRepodata(badReader{n}, func(fetch.Record) bool { return true })
		requireKind(t, err, fetch.KindMalformed)
	}
	err := fetch.ScanRepodata(badReader{0}, func(fetch.Record) bool { return true })
	require.ErrorIs(t, err, io.ErrNoProgress)
}

// findRecord scans a repodata document for the record of one file.
func findRecord(r io.Reader, filename string) (fetch.Record, error) {
	found, err := fetch.FindRecords(r, []string{filename})
	if err != nil {
		return fetch.Record{}, err
	}
	return found[filename].Record, found[filename].Err
}
