package fetch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// countingSource answers from fixed documents and counts the calls and
// the documents read at once.
type countingSource struct {
	docs     map[string]string // repodata URL → document
	mu       sync.Mutex
	calls    map[string]int
	inFlight atomic.Int32
	peak     atomic.Int32
	delay    time.Duration
}

func (s *countingSource) FindRecords(ctx context.Context, url string, files []string) (map[string]fetch.Found, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	s.mu.Lock()
	s.calls[url]++
	s.mu.Unlock()
	time.Sleep(s.delay)
	doc, ok := s.docs[url]
	if !ok {
		err := &fetch.Error{Kind: fetch.KindNotFound, Msg: "no such document"}
		found := map[string]fetch.Found{}
		for _, f := range files {
			found[f] = fetch.Found{Err: err}
		}
		return found, err
	}
	return fetch.FindRecords(strings.NewReader(doc), files)
}

func TestResolveReadsEachSubdirOnce(t *testing.T) {
	t.Parallel()
	src := &countingSource{calls: map[string]int{}, docs: map[string]string{
		"https://h/c/linux-64/repodata.json": `{"packages.conda": {
			"a-1-0.conda": {"name": "a", "version": "1", "build": "0", "sha256": "aa"},
			"b-1-0.conda": {"name": "b", "version": "1", "build": "0"},
			"d-1-0.conda": {"name": "d"}}, "packages": {"d-1-0.conda": {"name": "d"}}}`,
		"https://h/c/noarch/repodata.json": `{"packages": {"n-1-0.tar.bz2": {"name": "n"}}}`,
	}}
	urls := []string{
		"https://h/c/linux-64/a-1-0.conda",
		"https://h/c/noarch/n-1-0.tar.bz2",
		"https://h/c/linux-64/b-1-0.conda",
		"https://h/c/linux-64/gone-1-0.conda",
		"https://h/c/linux-64/d-1-0.conda",
		"ftp://h/c/linux-64/a-1-0.conda",
		"https://h/other/linux-64/x-1-0.conda",
	}
	got := fetch.Resolve(context.Background(), src, urls, 0)
	require.Len(t, got, len(urls))
	assert.NoError(t, got[0].Err)
	assert.Equal(t, "aa", got[0].Record.SHA256)
	assert.Equal(t, "n-1-0.tar.bz2", got[1].Record.Filename)
	assert.Equal(t, "b", got[2].Record.Name)
	requireKind(t, got[3].Err, fetch.KindNotFound)
	assert.Contains(t, got[3].Err.Error(), `"gone-1-0.conda"`)
	// Listed in "packages" and "packages.conda": which wins depends on
	// the installer, so neither does.
	requireKind(t, got[4].Err, fetch.KindMalformed)
	assert.Contains(t, got[4].Err.Error(), "2 times")
	requireKind(t, got[5].Err, fetch.KindInvalidURL)
	requireKind(t, got[6].Err, fetch.KindNotFound)
	assert.Zero(t, got[6].Record.Filename)
	assert.Equal(t, map[string]int{
		"https://h/c/linux-64/repodata.json":     1,
		"https://h/c/noarch/repodata.json":       1,
		"https://h/other/linux-64/repodata.json": 1,
	}, src.calls, "one call per channel and subdir, none for an unusable URL")
}

func TestResolveBoundsScans(t *testing.T) {
	t.Parallel()
	src := &countingSource{calls: map[string]int{}, docs: map[string]string{}, delay: 5 * time.Millisecond}
	var urls []string
	for i := range 3 * fetch.MaxParallelScans {
		url := fmt.Sprintf("https://h/c%d/noarch/", i)
		src.docs[url+"repodata.json"] = `{"packages": {}}`
		urls = append(urls, url+"a-1-0.conda")
	}
	got := fetch.Resolve(context.Background(), src, urls, 10*fetch.MaxParallelScans)
	for _, f := range got {
		requireKind(t, f.Err, fetch.KindNotFound)
	}
	assert.LessOrEqual(t, int(src.peak.Load()), fetch.MaxParallelScans)
	assert.Greater(t, int(src.peak.Load()), 1, "scans run in parallel")

	src.peak.Store(0)
	fetch.Resolve(context.Background(), src, urls[:20], 3)
	assert.LessOrEqual(t, int(src.peak.Load()), 3)
}

func TestResolveCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &countingSource{calls: map[string]int{}, docs: map[string]string{"https://h/c/noarch/repodata.json": `{"packages": {"a-1-0.conda": {}}}`}}
	got := fetch.Resolve(ctx, src, []string{"https://h/c/noarch/a-1-0.conda"}, 1)
	assert.ErrorIs(t, got[0].Err, context.Canceled)
	assert.Zero(t, got[0].Record.Filename)
}

// The client is a RecordSource: it reads the document once, through
// its size cap, and a document it cannot read fails every file of it.
func TestClientFindRecords(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/c/noarch/repodata.json":
			_, _ = io.WriteString(w, `{"packages": {"a-1-0.tar.bz2": {"name": "a"}}}`)
		case "/bad/noarch/repodata.json":
			_, _ = io.WriteString(w, `{"packages": [`)
		default:
			http.NotFound(w, r)
		}
	})
	c := newClient(t, fetch.Options{RecordSources: []string{"repodata.json"}})
	var src fetch.RecordSource = c
	got := fetch.Resolve(context.Background(), src, []string{
		srv.URL + "/c/noarch/a-1-0.tar.bz2", srv.URL + "/c/noarch/b-1-0.tar.bz2",
		srv.URL + "/bad/noarch/a-1-0.tar.bz2", srv.URL + "/bad/noarch/b-1-0.tar.bz2",
		srv.URL + "/none/noarch/a-1-0.tar.bz2",
	}, 0)
	assert.NoError(t, got[0].Err)
	assert.Equal(t, "a", got[0].Record.Name)
	assert.Equal(t, "repodata.json", got[0].Source)
	requireKind(t, got[1].Err, fetch.KindNotFound)
	requireKind(t, got[2].Err, fetch.KindMalformed)
	requireKind(t, got[3].Err, fetch.KindMalformed)
	requireKind(t, got[4].Err, fetch.KindNotFound)
	assert.Equal(t, int32(3), hits.Load(), "one request per document")
}

// A record from raw JSON is read as the scanner reads it in a document:
// "present but empty" stays apart from "absent", and what the scanner
// refuses is refused.
func TestParseRecord(t *testing.T) {
	t.Parallel()
	rec, err := fetch.ParseRecord("a-1-0.conda", []byte(`{"name": "a", "version": "1", "build": "0", "sha256": "AB", "size": 12, "attestations_sha256": ""}`))
	require.NoError(t, err)
	assert.Equal(t, "a-1-0.conda", rec.Filename)
	assert.Equal(t, "a", rec.Name)
	assert.Equal(t, int64(12), rec.Size)
	assert.True(t, rec.HasAttestations(), "present but empty is advertised (and invalid)")

	rec, err = fetch.ParseRecord("a-1-0.conda", []byte(`{"name": "a"}`))
	require.NoError(t, err)
	assert.False(t, rec.HasAttestations())

	for name, raw := range map[string]string{
		"not JSON":      `{"name": `,
		"two values":    `{} {}`,
		"injection":     `{}, "b-1-0.conda": {}`,
		"case variant":  `{"sha256": "aa", "SHA256": "bb"}`,
		"duplicate key": `{"name": "a", "name": "b"}`,
		"not an object": `"x"`,
		"too large":     `{"x": "` + strings.Repeat("a", fetch.MaxRecordSize) + `"}`,
	} {
		_, err := fetch.ParseRecord("a-1-0.conda", []byte(raw))
		assert.Error(t, err, name)
		assert.NotEqual(t, fetch.Kind(""), fetch.KindOf(err), "%s: %v", name, err)
	}
	// A file name that JSON must escape is the record's, as given.
	rec, err = fetch.ParseRecord("we\"ird-1-0.conda", []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, "we\"ird-1-0.conda", rec.Filename)
}
