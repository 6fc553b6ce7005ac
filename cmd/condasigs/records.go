package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
)

// recordSource finds repodata records. Each repodata document is read at
// most once per run, and only the records asked for are kept, so memory
// stays small whatever the size of the channel.
type recordSource struct {
	fetcher *fetch.Client
	file    string          // --repodata, if given
	wanted  map[string]bool // the filenames of the PACKAGE-URLs
	cache   map[string]map[string][]fetch.Record
}

func newRecordSource(f *fetch.Client, file string, wanted map[string]bool) *recordSource {
	return &recordSource{fetcher: f, file: file, wanted: wanted, cache: map[string]map[string][]fetch.Record{}}
}

func (s *recordSource) find(ctx context.Context, loc conda.PackageLocation) (fetch.Record, error) {
	key := loc.RepodataURL
	if s.file != "" {
		key = s.file
	}
	recs, ok := s.cache[key]
	if !ok {
		var err error
		if recs, err = s.load(ctx, key); err != nil {
			return fetch.Record{}, err
		}
		s.cache[key] = recs
	}
	switch found := recs[loc.Filename]; len(found) {
	case 0:
		return fetch.Record{}, &fetch.Error{Kind: fetch.KindNotFound, Msg: "no record for " + loc.Filename + " in " + conda.Redact(key)}
	case 1:
		return found[0], nil
	default:
		return fetch.Record{}, &fetch.Error{Kind: fetch.KindMalformed,
			Msg: fmt.Sprintf("%s has several records in %s; parsers disagree on which wins", loc.Filename, conda.Redact(key))}
	}
}

func (s *recordSource) load(ctx context.Context, key string) (map[string][]fetch.Record, error) {
	var r io.ReadCloser
	var err error
	if s.file != "" {
		r, err = os.Open(s.file)
		if err != nil {
			return nil, &fetch.Error{Kind: fetch.KindNotFound, Msg: "cannot open --repodata", Err: err}
		}
	} else if r, err = s.fetcher.OpenRepodata(ctx, key); err != nil {
		return nil, err
	}
	defer r.Close()
	// At most two records a wanted file: the first, and one more to tell
	// that it is listed twice, however often a hostile document repeats it.
	recs := map[string][]fetch.Record{}
	err = fetch.ScanRepodata(r, func(rec fetch.Record) bool {
		if s.wanted[rec.Filename] && len(recs[rec.Filename]) < 2 {
			recs[rec.Filename] = append(recs[rec.Filename], rec)
		}
		return true
	})
	return recs, err
}
