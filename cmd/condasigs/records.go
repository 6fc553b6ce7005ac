package main

import (
	"context"
	"os"

	"github.com/condasigs/condasigs/fetch"
)

// recordSource finds repodata records, reading each repodata document at
// most once per run.
type recordSource struct {
	fetcher *fetch.Client
	file    string // --repodata, if given
	cache   map[string]map[string]fetch.Record
}

func newRecordSource(f *fetch.Client, file string) *recordSource {
	return &recordSource{fetcher: f, file: file, cache: map[string]map[string]fetch.Record{}}
}

func (s *recordSource) find(ctx context.Context, loc fetch.PackageLocation) (fetch.Record, error) {
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
	rec, ok := recs[loc.Filename]
	if !ok {
		return fetch.Record{}, &fetch.Error{Kind: fetch.KindNotFound, Msg: "no record for " + loc.Filename + " in " + fetch.Redact(key)}
	}
	return rec, nil
}

func (s *recordSource) load(ctx context.Context, key string) (map[string]fetch.Record, error) {
	var r interface {
		Read([]byte) (int, error)
		Close() error
	}
	var err error
	if s.file != "" {
		r, err = os.Open(s.file)
	} else {
		r, err = s.fetcher.OpenRepodata(ctx, key)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	recs := map[string]fetch.Record{}
	err = fetch.ScanRepodata(r, func(rec fetch.Record) bool {
		recs[rec.Filename] = rec
		return true
	})
	return recs, err
}
