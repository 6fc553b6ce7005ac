package fetch_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// repodataServer serves one document with an ETag (and Last-Modified, when
// set), answering conditional requests with 304. It records the
// conditional headers and how many full bodies it sent.
type repodataServer struct {
	*testServer
	mu           sync.Mutex
	doc          string
	etag         string
	lastModified string
	bodies       int
	conditional  []string
}

func newRepodataServer(t *testing.T, doc, etag string) *repodataServer {
	s := &repodataServer{doc: doc, etag: etag}
	s.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.conditional = append(s.conditional, r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		if s.etag != "" {
			w.Header().Set("ETag", s.etag)
		}
		if s.lastModified != "" {
			w.Header().Set("Last-Modified", s.lastModified)
		}
		if (s.etag != "" && r.Header.Get("If-None-Match") == s.etag) ||
			(s.etag == "" && s.lastModified != "" && r.Header.Get("If-Modified-Since") == s.lastModified) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.bodies++
		_, _ = io.WriteString(w, s.doc)
	})
	return s
}

func (s *repodataServer) set(doc, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc, s.etag = doc, etag
}

func (s *repodataServer) stats() (bodies int, conditional []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies, append([]string(nil), s.conditional...)
}

func readAll(t *testing.T, c *fetch.Client, u string) string {
	t.Helper()
	rc, err := c.OpenRepodata(context.Background(), u)
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	return string(b)
}

const doc1 = `{"info":{"subdir":"noarch"},"packages.conda":{"a-1-0.conda":{"name":"a","version":"1","build":"0","sha256":"` + "aa" + `"}}}` + "\n"

func TestRepodataRevalidated(t *testing.T) {
	t.Parallel()
	srv := newRepodataServer(t, doc1, `"v1"`)
	dir := t.TempDir()
	c := newClient(t, fetch.Options{RepodataDir: dir})
	u := srv.URL + "/chan/noarch/repodata.json?token=s3cret"

	assert.Equal(t, doc1, readAll(t, c, u))
	assert.Equal(t, doc1, readAll(t, c, u), "the kept copy, after a 304")
	// Another client on the same directory (the next run) too.
	assert.Equal(t, doc1, readAll(t, newClient(t, fetch.Options{RepodataDir: dir}), u))
	bodies, cond := srv.stats()
	assert.Equal(t, 1, bodies, "downloaded once")
	assert.Equal(t, []string{"|", `"v1"|`, `"v1"|`}, cond)

	// A changed document is downloaded and kept in place of the old one.
	srv.set(strings.Replace(doc1, "aa", "bb", 1), `"v2"`)
	assert.Contains(t, readAll(t, c, u), `"bb"`)
	assert.Contains(t, readAll(t, c, u), `"bb"`)
	bodies, _ = srv.stats()
	assert.Equal(t, 2, bodies)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.NotContains(t, entries[0].Name(), "s3cret", "named by a hash of the URL")
}

func TestRepodataRevalidatedByLastModified(t *testing.T) {
	t.Parallel()
	srv := newRepodataServer(t, doc1, "")
	srv.lastModified = "Wed, 25 Nov 2026 10:00:00 GMT"
	c := newClient(t, fetch.Options{RepodataDir: t.TempDir()})
	readAll(t, c, srv.URL+"/c/noarch/repodata.json")
	assert.Equal(t, doc1, readAll(t, c, srv.URL+"/c/noarch/repodata.json"))
	bodies, cond := srv.stats()
	assert.Equal(t, 1, bodies)
	assert.Equal(t, "|Wed, 25 Nov 2026 10:00:00 GMT", cond[1])
}

// What cannot be revalidated, or was not read whole, is not kept.
func TestRepodataNotKept(t *testing.T) {
	t.Parallel()
	t.Run("no validators", func(t *testing.T) {
		srv := newRepodataServer(t, doc1, "")
		dir := t.TempDir()
		c := newClient(t, fetch.Options{RepodataDir: dir})
		readAll(t, c, srv.URL+"/c/noarch/repodata.json")
		readAll(t, c, srv.URL+"/c/noarch/repodata.json")
		bodies, _ := srv.stats()
		assert.Equal(t, 2, bodies)
		assert.Empty(t, cacheFiles(t, dir))
	})
	t.Run("over the cap", func(t *testing.T) {
		srv := newRepodataServer(t, doc1, `"v1"`)
		dir := t.TempDir()
		c := newClient(t, fetch.Options{RepodataDir: dir, MaxRepodataSize: 10})
		rc, err := c.OpenRepodata(context.Background(), srv.URL+"/c/noarch/repodata.json")
		if err == nil { // refused while reading, or at once (Content-Length)
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		requireKind(t, err, fetch.KindTooLarge)
		assert.Empty(t, cacheFiles(t, dir))
	})
	t.Run("cut short", func(t *testing.T) {
		dir := t.TempDir()
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", "1000")
			_, _ = io.WriteString(w, doc1)
		})
		c := newClient(t, fetch.Options{RepodataDir: dir, RetryMax: -1})
		rc, err := c.OpenRepodata(context.Background(), srv.URL+"/c/noarch/repodata.json")
		require.NoError(t, err)
		_, err = io.ReadAll(rc)
		assert.Error(t, err)
		rc.Close()
		assert.Empty(t, cacheFiles(t, dir))
	})
}

// A caller that stops at the end of the JSON document still gets the
// copy kept: Close reads the rest.
func TestRepodataKeptAfterEarlyStop(t *testing.T) {
	t.Parallel()
	srv := newRepodataServer(t, doc1+"\n\n", `"v1"`)
	c := newClient(t, fetch.Options{RepodataDir: t.TempDir()})
	u := srv.URL + "/c/noarch/repodata.json"
	for range 2 {
		rc, err := c.OpenRepodata(context.Background(), u)
		require.NoError(t, err)
		rec, err := findRecord(rc, "a-1-0.conda")
		require.NoError(t, err)
		assert.Equal(t, "aa", rec.SHA256)
		require.NoError(t, rc.Close())
	}
	bodies, _ := srv.stats()
	assert.Equal(t, 1, bodies)
}

// A damaged copy is never used: it is removed, and the document is
// downloaded again without a conditional request.
func TestRepodataDamagedCopy(t *testing.T) {
	t.Parallel()
	for name, damage := range map[string]func([]byte) []byte{
		"byte flipped": func(b []byte) []byte { b[len(b)-3] ^= 1; return b },
		"truncated":    func(b []byte) []byte { return b[:len(b)-1] },
		"extended":     func(b []byte) []byte { return append(b, ' ') },
		"empty":        func([]byte) []byte { return nil },
		"header only":  func(b []byte) []byte { return b[:30] },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newRepodataServer(t, doc1, `"v1"`)
			dir := t.TempDir()
			c := newClient(t, fetch.Options{RepodataDir: dir})
			u := srv.URL + "/c/noarch/repodata.json"
			readAll(t, c, u)
			files := cacheFiles(t, dir)
			require.Len(t, files, 1)
			b, err := os.ReadFile(files[0])
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(files[0], damage(b), 0o600))

			assert.Equal(t, doc1, readAll(t, c, u))
			bodies, cond := srv.stats()
			assert.Equal(t, 2, bodies)
			assert.Equal(t, "|", cond[1], "no conditional request on a damaged copy")
			assert.Equal(t, doc1, readAll(t, c, u), "the copy was rebuilt")
			bodies, _ = srv.stats()
			assert.Equal(t, 2, bodies)
		})
	}
}

// A kept copy is never used without the server's answer.
func TestRepodataKeptCopyNeedsTheServer(t *testing.T) {
	t.Parallel()
	srv := newRepodataServer(t, doc1, `"v1"`)
	c := newClient(t, fetch.Options{RepodataDir: t.TempDir(), RetryMax: -1})
	u := srv.URL + "/c/noarch/repodata.json"
	readAll(t, c, u)
	srv.Close()
	_, err := c.OpenRepodata(context.Background(), u)
	requireKind(t, err, fetch.KindNetwork)
}

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}
