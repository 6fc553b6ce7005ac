package fetch_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

func zstdOf(t testing.TB, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	require.NoError(t, err)
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// docServer serves the given documents by path and counts requests by path.
type docServer struct {
	*testServer
	mu   sync.Mutex
	reqs map[string]int
}

func newDocServer(t *testing.T, docs map[string][]byte) *docServer {
	t.Helper()
	s := &docServer{reqs: map[string]int{}}
	s.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs[r.URL.Path]++
		s.mu.Unlock()
		switch doc, ok := docs[r.URL.Path]; {
		case !ok:
			http.NotFound(w, r)
		case doc == nil:
			http.Error(w, "broken", http.StatusInternalServerError)
		default:
			_, _ = w.Write(doc)
		}
	})
	return s
}

func (s *docServer) requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[path]
}

const sourceDoc = `{"info": {"subdir": "noarch"}, "packages": {"a-1-0.tar.bz2": {"name": "a", "version": "1", "build": "0"}}}`

// The client reads the first document the channel serves, in the order
// shards, repodata.json.zst, repodata.json, and says which it read.
func TestFindRecordsSources(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		docs    map[string][]byte
		sources []string
		want    string
		tried   []string // requested, in any order
		skipped []string // never requested
	}{
		{
			name: "only repodata.json",
			docs: map[string][]byte{"/c/noarch/repodata.json": []byte(sourceDoc)},
			want: "repodata.json",
			tried: []string{"/c/noarch/repodata_shards.msgpack.zst", "/c/noarch/repodata.json.zst",
				"/c/noarch/repodata.json"},
		},
		{
			name: "zst before json",
			docs: map[string][]byte{
				"/c/noarch/repodata.json.zst": zstdOf(t, []byte(sourceDoc)),
				"/c/noarch/repodata.json":     []byte(`{"packages": {}}`),
			},
			want:    "repodata.json.zst",
			tried:   []string{"/c/noarch/repodata.json.zst"},
			skipped: []string{"/c/noarch/repodata.json"},
		},
		{
			name: "overridden: json only",
			docs: map[string][]byte{
				"/c/noarch/repodata.json.zst": zstdOf(t, []byte(`{"packages": {}}`)),
				"/c/noarch/repodata.json":     []byte(sourceDoc),
			},
			sources: []string{"repodata.json"},
			want:    "repodata.json",
			tried:   []string{"/c/noarch/repodata.json"},
			skipped: []string{"/c/noarch/repodata.json.zst", "/c/noarch/repodata_shards.msgpack.zst"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newDocServer(t, tc.docs)
			c := newClient(t, fetch.Options{RecordSources: tc.sources})
			found, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.tar.bz2", "b-1-0.tar.bz2"})
			require.NoError(t, err)
			a := found["a-1-0.tar.bz2"]
			require.NoError(t, a.Err)
			assert.Equal(t, "a", a.Record.Name)
			assert.Equal(t, "noarch", a.Record.Subdir)
			assert.Equal(t, tc.want, a.Source)
			b := found["b-1-0.tar.bz2"]
			requireKind(t, b.Err, fetch.KindNotFound)
			assert.Equal(t, tc.want, b.Source, "a file the document lacks is unavailable from that document")
			for _, p := range tc.tried {
				assert.Equal(t, 1, srv.requests(p), p)
			}
			for _, p := range tc.skipped {
				assert.Zero(t, srv.requests(p), p)
			}
		})
	}
}

// Only a missing document moves on: a broken or refused one is the
// answer, so that a channel (or whoever sits between) cannot make the
// client read another document by breaking one.
func TestFindRecordsSourceFailuresAreFinal(t *testing.T) {
	t.Parallel()
	bomb := zstdOf(t, []byte(`{"packages": {}`+strings.Repeat(" ", 1<<20)+`}`))
	for _, tc := range []struct {
		name string
		zst  []byte
		kind fetch.Kind
		opts fetch.Options
	}{
		{name: "server error", zst: nil, kind: fetch.KindHTTPStatus, opts: fetch.Options{RetryMax: -1}},
		{name: "not zstd", zst: []byte(sourceDoc), kind: fetch.KindMalformed},
		{name: "truncated zstd", zst: zstdOf(t, []byte(sourceDoc))[:20], kind: fetch.KindMalformed},
		{name: "zstd of garbage", zst: zstdOf(t, []byte(`{"packages": [`)), kind: fetch.KindMalformed},
		{name: "decoded size over the cap", zst: bomb, kind: fetch.KindTooLarge, opts: fetch.Options{MaxRepodataSize: 64 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newDocServer(t, map[string][]byte{
				"/c/noarch/repodata.json.zst": tc.zst,
				"/c/noarch/repodata.json":     []byte(sourceDoc),
			})
			require.Less(t, len(bomb), 64<<10, "the bomb is small compressed")
			c := newClient(t, tc.opts)
			found, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.tar.bz2"})
			requireKind(t, err, tc.kind)
			a := found["a-1-0.tar.bz2"]
			requireKind(t, a.Err, tc.kind)
			assert.Equal(t, "repodata.json.zst", a.Source)
			assert.Zero(t, srv.requests("/c/noarch/repodata.json"), "no fallback after a failure")
		})
	}
}

// A zstd frame that asks for a window over the decoder's cap is refused
// before the decoder allocates it.
func TestFindRecordsZstdWindowCap(t *testing.T) {
	t.Parallel()
	// A frame header declaring a 2 GiB window (Window_Descriptor exponent
	// 31-10 = 21), single segment off, followed by an empty raw last block.
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00}
	srv := newDocServer(t, map[string][]byte{"/c/noarch/repodata.json.zst": frame})
	c := newClient(t, fetch.Options{})
	_, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.tar.bz2"})
	requireKind(t, err, fetch.KindMalformed)
}

// A list of sources the client cannot use is a misuse, said before any
// request.
func TestFindRecordsBadSources(t *testing.T) {
	t.Parallel()
	srv := newDocServer(t, map[string][]byte{"/c/noarch/repodata.json": []byte(sourceDoc)})
	for _, sources := range [][]string{{"repodata.json.bz2"}, {"repodata.json", "repodata.json"}, {""}} {
		c := newClient(t, fetch.Options{RecordSources: sources})
		found, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.tar.bz2"})
		requireKind(t, err, fetch.KindInvalidURL)
		requireKind(t, found["a-1-0.tar.bz2"].Err, fetch.KindInvalidURL)
	}
	assert.Zero(t, srv.Hits())
}

// The .zst document is kept in Options.RepodataDir and revalidated like
// repodata.json.
func TestFindRecordsZstdCached(t *testing.T) {
	t.Parallel()
	doc := zstdOf(t, []byte(sourceDoc))
	var mu sync.Mutex
	conditional := 0
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/c/noarch/repodata.json.zst" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			mu.Lock()
			conditional++
			mu.Unlock()
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write(doc)
	})
	dir := t.TempDir()
	mustDirCache(t, dir) // checks the directory, as RepodataDir needs
	c := newClient(t, fetch.Options{RepodataDir: dir, RecordSources: []string{"repodata.json.zst"}})
	for range 2 {
		found, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.tar.bz2"})
		require.NoError(t, err)
		assert.Equal(t, "a", found["a-1-0.tar.bz2"].Record.Name)
	}
	assert.Equal(t, 1, conditional, "the second read revalidated the kept copy")
	assert.False(t, bytes.Equal(doc, nil))
}
