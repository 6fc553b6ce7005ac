package fetch_test

import (
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
)

// TestFindRecordsInfoAfterPackages: a record without its own subdir
// takes info.subdir in every installer (conda's and rattler's parsers
// build the whole document, then apply info), wherever "info" is written.
// FindRecords applies it only when "info" comes first: written last, the
// record's Subdir is "", and verifier.go's check (a record whose subdir is
// not the URL's is inconsistent: "CEP 27 does not bind the subdir") is
// skipped. So moving "info" to the end of a document turns a refused
// cross-platform record into a passing one, while the installer still
// reads subdir "linux-64". A parser (encoding/json, python json) gives
// both orders the same meaning; the verifier must too, or refuse.
func TestFindRecordsInfoAfterPackages(t *testing.T) {
	const rec = `"w-1-0.conda":{"name":"w","version":"1","build":"0","sha256":"aa"}`
	first := `{"info":{"subdir":"linux-64"},"packages.conda":{` + rec + `}}`
	last := `{"packages.conda":{` + rec + `},"info":{"subdir":"linux-64"}}`
	var got [2]string
	for i, doc := range []string{first, last} {
		found, err := fetch.FindRecords(strings.NewReader(doc), []string{"w-1-0.conda"})
		if err != nil {
			if i == 1 {
				return // refusing the document is fine
			}
			t.Fatal(err)
		}
		f := found["w-1-0.conda"]
		if f.Err != nil {
			t.Fatal(f.Err)
		}
		got[i] = f.Record.Subdir
	}
	if got[0] != got[1] {
		t.Fatalf("the record's subdir is %q with info first, %q with info last: the same document to a JSON parser", got[0], got[1])
	}
}
