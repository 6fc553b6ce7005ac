package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/condasigs/condasigs/conda"
)

// Found is what a repodata document says about one package file: its
// record, or why there is not exactly one.
type Found struct {
	Record Record
	// Err is nil when the document lists the file exactly once. Otherwise
	// it is a *Error: KindNotFound when the document does not list the
	// file, KindMalformed when it lists it more than once (parsers disagree
	// on which record wins), or the failure to read the document (of its
	// kind, KindInvalidURL for a package URL that names no document).
	Err error
	// Source names the document the record was read from, or that failed:
	// "repodata_shards.msgpack.zst" (CEP 16's shards), "repodata.json.zst"
	// or "repodata.json" for a [Client]; whatever a caller's RecordSource
	// says for its own (empty when it says nothing).
	Source string
}

// A RecordSource gives the records of package files by the URL of their
// subdir's repodata.json (conda.PackageLocation.RepodataURL, credentials
// included: never print it). [*Client] is one: it reads the document
// over http(s) or from a file:// URL, through its repodata cache. A
// package manager that keeps repodata itself supplies its own, so that
// no document is read twice.
type RecordSource interface {
	// FindRecords returns what the document says about each of filenames,
	// every one of them a key of the map; or, when the document cannot be
	// read, the error, which then applies to every file (the map may be
	// nil).
	FindRecords(ctx context.Context, repodataURL string, filenames []string) (map[string]Found, error)
}

// FindRecords scans a repodata document once for the records of
// filenames, and returns what it says about each (see [Found]). The whole
// document is read, since a file listed twice must be seen. Only the
// records of filenames are decoded, as [ScanRepodata] decodes them (every
// time one appears); the others are checked as JSON, under the caps of
// ScanRepodata, and skipped without being decoded or kept: about twice as
// fast as a full scan, and ten times encoding/json (1.4 GB/s on a
// conda-forge-like channel). Memory stays that of one scan (under 512 KiB)
// plus one record a wanted file, however large the document or often a
// hostile one repeats a file. The error is the document's (malformed, too
// large), which is then also each Found's Err.
func FindRecords(r io.Reader, filenames []string) (map[string]Found, error) {
	return findRecords(newScanner(r), filenames, true)
}

// findRecords is FindRecords on s, skimming the records that are not
// wanted, or, with skim false, decoding every record (as FindRecords did
// before skim.go; the tests' reference).
func findRecords(s *scanner, filenames []string, skim bool) (map[string]Found, error) {
	type hit struct {
		rec Record
		n   int
	}
	hits := make(map[string]*hit, len(filenames))
	for _, f := range filenames {
		hits[f] = &hit{}
	}
	if skim {
		s.want = func(name []byte) bool {
			_, ok := hits[string(name)]
			return ok
		}
	}
	err := s.document(func(rec Record) bool {
		if h, ok := hits[rec.Filename]; ok {
			if h.n == 0 {
				h.rec = rec
			}
			h.n++
		}
		return true
	})
	if err != nil {
		err = malformedRepodata(err)
		return allFailed(filenames, err), err
	}
	if s.lateSubdir != "" { // "info" came after records: its subdir is theirs too
		for _, h := range hits {
			if h.n > 0 && h.rec.Subdir == "" {
				h.rec.Subdir = s.lateSubdir
			}
		}
	}
	out := make(map[string]Found, len(hits))
	for f, h := range hits {
		out[f] = foundOf(f, h.rec, h.n, "the repodata")
	}
	return out, nil
}

// foundOf is what a document (what, e.g. "the repodata") that lists file
// n times says about it: its record when once, else why not (installers
// disagree on which of several records wins).
func foundOf(file string, rec Record, n int, what string) Found {
	switch n {
	case 0:
		return Found{Err: &Error{Kind: KindNotFound, Msg: fmt.Sprintf("%s does not list %q", what, file)}}
	case 1:
		return Found{Record: rec}
	}
	return Found{Err: &Error{Kind: KindMalformed, Msg: fmt.Sprintf("%s lists %q %d times, and installers disagree on which record wins", what, file, n)}}
}

// nameDocument sets the (redacted) URL of the document in the errors of
// found that name none.
func nameDocument(found map[string]Found, url string) {
	for f, hit := range found {
		var fe *Error
		if errors.As(hit.Err, &fe) && fe.URL == "" {
			e := *fe
			e.URL = url
			found[f] = Found{Err: &e, Source: hit.Source}
		}
	}
}

func allFailed(filenames []string, err error) map[string]Found {
	out := make(map[string]Found, len(filenames))
	for _, f := range filenames {
		out[f] = Found{Err: err}
	}
	return out
}

// maxParallelScans bounds the repodata documents [Resolve] reads at once.
// A scan holds under 512 KiB (see [ScanRepodata]), and a Client reads a
// document over http(s) 768 KiB ahead of it (readAheadSize), so Resolve's
// memory for plain documents is bounded by this many of 1.25 MiB.
const maxParallelScans = 64

// Resolve finds the records of the packages at packageURLs, in order. It
// asks src once for each channel and subdir, for all of that subdir's
// files at once, with at most parallel requests in flight (at most
// 64; 0 means 4×GOMAXPROCS). A URL that is not a package URL
// gets a KindInvalidURL error. When ctx ends, what is not found yet gets
// ctx's error.
func Resolve(ctx context.Context, src RecordSource, packageURLs []string, parallel int) []Found {
	out := make([]Found, len(packageURLs))
	type group struct {
		idx   []int
		files []string
	}
	groups := map[string]*group{}
	for i, u := range packageURLs {
		loc, err := conda.SplitPackageURL(u)
		if err != nil {
			out[i].Err = &Error{Kind: KindInvalidURL, Err: err}
			continue
		}
		g := groups[loc.RepodataURL]
		if g == nil {
			g = &group{}
			groups[loc.RepodataURL] = g
		}
		g.idx = append(g.idx, i)
		g.files = append(g.files, loc.Filename)
	}
	if parallel <= 0 {
		parallel = 4 * runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, min(parallel, maxParallelScans))
	var wg sync.WaitGroup
	for url, g := range groups {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, i := range g.idx {
					out[i].Err = ctx.Err()
				}
				return
			}
			defer func() { <-sem }()
			found, err := src.FindRecords(ctx, url, g.files)
			for k, i := range g.idx {
				f, ok := found[g.files[k]]
				switch {
				case ctx.Err() != nil:
					f = Found{Err: ctx.Err()}
				case !ok && err != nil:
					f = Found{Err: err}
				case !ok:
					f = Found{Err: fmt.Errorf("fetch: the record source gave no answer for %s", g.files[k])}
				}
				out[i] = f
			}
		})
	}
	wg.Wait()
	return out
}

// ParseRecord builds the record of filename from its raw JSON object, as a
// package manager that parsed repodata.json itself holds it, with the
// rules ScanRepodata applies (known keys once, no case variants of them,
// a size cap of 1 MiB), so that a record is read one way whoever
// reads it: "attestations_sha256": "" stays "present but empty", which
// HasAttestations reports, unlike an absent key.
func ParseRecord(filename string, raw []byte) (Record, error) {
	if len(raw) > maxRecordSize {
		return Record{}, &Error{Kind: KindTooLarge, Msg: fmt.Sprintf("the record of %q is larger than %d bytes", filename, maxRecordSize)}
	}
	// One JSON value, so that nothing in it can close the wrapping below.
	if !json.Valid(raw) {
		return Record{}, &Error{Kind: KindMalformed, Msg: fmt.Sprintf("the record of %q is not valid JSON", filename)}
	}
	name, err := json.Marshal(filename)
	if err != nil {
		return Record{}, &Error{Kind: KindMalformed, Err: err}
	}
	doc := io.MultiReader(strings.NewReader(`{"packages":{`), bytes.NewReader(name), strings.NewReader(":"), bytes.NewReader(raw), strings.NewReader("}}"))
	var rec Record
	n := 0
	if err := ScanRepodata(doc, func(r Record) bool { rec, n = r, n+1; return true }); err != nil {
		return Record{}, err
	}
	if n != 1 || rec.Filename != filename {
		return Record{}, &Error{Kind: KindMalformed, Msg: fmt.Sprintf("the record of %q is not one record object", filename)}
	}
	return rec, nil
}
