package main

import (
	"context"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/localfile"
)

// fileRecords is the record source of --repodata: every package's record
// is read from one local repodata.json, whatever its channel and subdir.
type fileRecords struct{ path string }

func (s fileRecords) FindRecords(_ context.Context, _ string, filenames []string) (map[string]fetch.Found, error) {
	f, _, err := localfile.Open(s.path) // checked before, but it may have been swapped for a FIFO
	if err != nil {
		// fetch.Resolve gives each file the error.
		return nil, &fetch.Error{Kind: fetch.KindNotFound, Msg: "cannot open --repodata", Err: err}
	}
	defer f.Close()
	found, err := fetch.FindRecords(f, filenames)
	for name, hit := range found {
		hit.Source = s.path // the document, as the user named it
		found[name] = hit
	}
	return found, err
}
