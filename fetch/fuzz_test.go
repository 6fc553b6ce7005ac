package fetch_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
)

// Fuzz targets of the fetch package. Run them with scripts/fuzz.sh; their
// seed corpora (f.Add and testdata/fuzz) run with the ordinary tests.

// fuzzCappedReader serves data and fails with a too-large *fetch.Error once
// more than limit bytes have been asked of it, as the client's capped body
// does.
type fuzzCappedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *fuzzCappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more than the cap tells "too large" from "exactly the cap".
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, &fetch.Error{Kind: fetch.KindTooLarge, Msg: "larger than the cap"}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// FuzzScanRepodata: ScanRepodata never panics on any bytes; on success
// every record has a non-empty filename; every failure is a *fetch.Error
// of kind malformed, or too-large when the reader's cap was exceeded.
func FuzzScanRepodata(f *testing.F) {
	d := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{"info":{"subdir":"linux-64"},"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1","build":"0","build_number":0,"sha256":"` + d + `"}},` +
			`"packages.conda":{"a-1-0.conda":{"name":"a","version":"1","build":"0","build_number":0,"sha256":"` + d + `","attestations_sha256":"` + d + `"}},"repodata_version":1}`,
		`{"packages":null,"packages.conda":{}}`,
		`{"packages.conda":{"x-1-0.conda":{"attestations_sha256":null}}}`,
		`{"packages.conda":{"x-1-0.conda":{"sha256":"a","SHA256":"b"}}}`,
		`{"packages.conda":{"x-1-0.conda":{"sha256":"a","sha256":"b"}}}`,
		`{"packages.conda":{"x-1-0.conda":{"size":1e400}}}`,
		`{"packages.conda":{"x-1-0.conda":{}, "x-1-0.conda":{}}}`,
		`{"packages.conda":[]}`,
		`{"packages.conda":{"x":{}}} trailing`,
		`{"packages":{"":{}}}`,
		`[]`, `null`, ``, `{`, "\xff",
	} {
		f.Add([]byte(s), uint16(len(s)), uint16(0))
		f.Add([]byte(s), uint16(len(s)/2), uint16(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, stopAt uint16) {
		r := &fuzzCappedReader{r: bytes.NewReader(data), left: int64(limit), limit: int64(limit)}
		n := 0
		var records []fetch.Record
		stopped := false
		err := fetch.ScanRepodata(r, func(rec fetch.Record) bool {
			records = append(records, rec)
			n++
			// stopAt 0 never stops; k stops after the k-th record.
			if stopAt != 0 && n >= int(stopAt) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil {
			var fe *fetch.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *fetch.Error", err, err)
			}
			switch fe.Kind {
			case fetch.KindMalformed:
			case fetch.KindTooLarge:
				if len(data) <= int(limit) {
					t.Fatalf("too-large with %d bytes under a cap of %d: %v", len(data), limit, err)
				}
			default:
				t.Fatalf("error of kind %q, want malformed or too-large: %v", fe.Kind, err)
			}
			if !errors.Is(err, fetch.KindMalformed) && !errors.Is(err, fetch.KindTooLarge) {
				t.Fatalf("errors.Is matches neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			return
		}
		if !stopped && len(data) > int(limit) {
			t.Fatalf("%d bytes read in full under a cap of %d without an error", len(data), limit)
		}
		for i, rec := range records {
			if rec.Filename == "" {
				t.Fatalf("record %d of an accepted document has an empty filename: %+v", i, rec)
			}
		}
	})
}
