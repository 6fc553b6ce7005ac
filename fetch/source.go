package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/condasigs/condasigs/conda"
	"github.com/klauspost/compress/zstd"
)

// The documents a subdir's records can be read from, named by their file
// names under the subdir, as Options.RecordSources and Found.Source name
// them.
const (
	// sourceShards is CEP 16's sharded repodata: an index of package
	// names, and one content-addressed shard per name.
	sourceShards = "repodata_shards.msgpack.zst"
	// sourceZst is repodata.json compressed with zstd.
	sourceZst = "repodata.json.zst"
	// sourceJSON is plain repodata.json.
	sourceJSON = "repodata.json"
)

// maxZstdWindow caps the window a zstd stream may ask the decoder to keep
// (and so the decoder's memory). conda-index and rattler write
// repodata.json.zst with windows of 8 MiB or less (zstd's levels up to 19
// use at most 8 MiB); 32 MiB leaves room for long-distance modes without
// letting a hostile stream claim gigabytes.
const maxZstdWindow = 32 << 20

// zstStreamsPerClient bounds the repodata.json.zst streams a Client reads
// at once, whatever the number of calls (Resolve reads up to 64 subdirs
// at once): each may hold the decoder's history, a window of
// maxZstdWindow and two blocks (about 33 MiB), besides its scan (under
// 512 KiB), so about 132 MiB for the Client. A scan is mostly decoding
// and parsing, so more streams than CPUs would gain little.
const zstStreamsPerClient = 4

// semaphore bounds what is done at once, made on first use.
type semaphore struct {
	once sync.Once
	ch   chan struct{}
}

// acquire takes one of n slots (n is that of the first call), or fails
// with ctx. The caller calls release once done.
func (s *semaphore) acquire(ctx context.Context, n int) error {
	s.once.Do(func() { s.ch = make(chan struct{}, n) })
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *semaphore) release() { <-s.ch }

// recordSources returns the documents FindRecords tries, in order, or
// the error of an Options.RecordSources it cannot use.
func (c *Client) recordSources() ([]string, error) {
	if len(c.opts.RecordSources) == 0 {
		return []string{sourceShards, sourceZst, sourceJSON}, nil
	}
	for i, s := range c.opts.RecordSources {
		switch s {
		case sourceShards, sourceZst, sourceJSON:
		default:
			return nil, &Error{Kind: KindInvalidURL, Msg: fmt.Sprintf("fetch.Options.RecordSources: unknown source %q: use %q, %q or %q", s, sourceShards, sourceZst, sourceJSON)}
		}
		if slices.Contains(c.opts.RecordSources[:i], s) {
			return nil, &Error{Kind: KindInvalidURL, Msg: fmt.Sprintf("fetch.Options.RecordSources: %q is listed twice", s)}
		}
	}
	return c.opts.RecordSources, nil
}

// FindRecords returns what the channel says about each of filenames, files
// of the subdir whose repodata.json is at repodataURL. It reads the first
// of Options.RecordSources that the channel serves: by default CEP 16's
// shards (repodata_shards.msgpack.zst beside repodata.json; only the shards
// of the names asked for are fetched), then repodata.json.zst, then
// repodata.json. Only a document that is not there (HTTP 404 or 410, a
// missing file) moves on to the next; any other failure is the answer.
// Each Found's Source names the document that answered. Documents are read
// through the repodata cache of Options.RepodataDir, and scanned in bounded
// memory (see [FindRecords]); whatever the number of calls, a Client reads
// at most 2 shard indexes (each at most 16 MiB) and 4 repodata.json.zst
// streams (each with a window of at most 32 MiB) at once.
//
// A repodataURL whose path does not end in /repodata.json names one
// document, which is read as plain repodata.json.
func (c *Client) FindRecords(ctx context.Context, repodataURL string, filenames []string) (map[string]Found, error) {
	sources, err := c.recordSources()
	if err != nil {
		return allFailed(filenames, err), err
	}
	base, query, ok := subdirBase(repodataURL)
	if !ok {
		return c.findIn(ctx, sourceJSON, repodataURL, filenames)
	}
	var found map[string]Found
	for i, src := range sources {
		found, err = c.findIn(ctx, src, base+src+query, filenames)
		if i < len(sources)-1 && errors.Is(err, KindNotFound) && ctx.Err() == nil {
			c.log.DebugContext(ctx, "condasigs: no such repodata document, trying the next", "url", conda.Redact(base+src+query))
			continue
		}
		break
	}
	return found, err
}

// subdirBase splits repodataURL into the URL of its directory (ending in
// "/") and its query string (from "?", kept for every document, as
// conda.SplitPackageURL keeps the package URL's), when its path ends in
// /repodata.json.
func subdirBase(repodataURL string) (base, query string, ok bool) {
	path := repodataURL
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path, query = path[:i], path[i:]
	}
	base, ok = strings.CutSuffix(path, "/"+sourceJSON)
	if !ok {
		return "", "", false
	}
	return base + "/", query, true
}

// findIn reads the document src at docURL, and sets Source in every Found.
func (c *Client) findIn(ctx context.Context, src, docURL string, filenames []string) (map[string]Found, error) {
	var found map[string]Found
	var err error
	switch src {
	case sourceShards:
		found, err = c.findInShards(ctx, strings.Replace(docURL, "/"+sourceShards, "/"+sourceJSON, 1), filenames)
	case sourceZst:
		found, err = c.findInDocument(ctx, docURL, filenames, true)
	default:
		found, err = c.findInDocument(ctx, docURL, filenames, false)
	}
	if found == nil {
		found = allFailed(filenames, err)
	}
	for f, hit := range found {
		hit.Source = src
		found[f] = hit
	}
	return found, err
}

// findInDocument scans the repodata.json at docURL, zstd-compressed when
// zst is set.
func (c *Client) findInDocument(ctx context.Context, docURL string, filenames []string, zst bool) (map[string]Found, error) {
	if zst {
		if err := c.zstStreams.acquire(ctx, zstStreamsPerClient); err != nil {
			return allFailed(filenames, err), err
		}
		defer c.zstStreams.release()
	}
	body, err := c.OpenRepodata(ctx, docURL)
	if err != nil {
		return allFailed(filenames, err), err
	}
	defer body.Close()
	where := conda.Redact(docURL)
	var doc io.Reader = body
	if zst {
		dec, err := zstd.NewReader(body,
			zstd.WithDecoderConcurrency(2),
			zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderMaxMemory(maxZstdWindow))
		if err != nil {
			err = &Error{Kind: KindMalformed, URL: where, Msg: "cannot start a zstd decoder", Err: err}
			return allFailed(filenames, err), err
		}
		defer dec.Close()
		// The cap applies to the decoded document, as to a gzip-encoded one.
		doc = &cappedReader{r: &zstdReader{dec: dec, url: where}, remaining: c.opts.MaxRepodataSize,
			limit: c.opts.MaxRepodataSize, url: where, parent: ctx, closer: func() error { return nil }}
	}
	found, err := FindRecords(doc, filenames)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
		return allFailed(filenames, err), err
	}
	nameDocument(found, where) // a hit's error names the file only
	return found, err
}

// zstdReader reads a zstd stream, and says that a stream the decoder
// refuses is malformed (the transport's own failures pass as they are).
type zstdReader struct {
	dec *zstd.Decoder
	url string
}

func (z *zstdReader) Read(p []byte) (int, error) {
	n, err := z.dec.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	var fe *Error
	if errors.As(err, &fe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return n, err
	}
	return n, &Error{Kind: KindMalformed, URL: z.url, Msg: "the document is not a valid zstd stream within the decoder's limits", Err: err}
}
