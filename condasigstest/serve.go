package condasigstest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Serve starts an HTTP server on loopback serving Dir as plain files (404
// for a missing file, whatever Content-Type the extension gives), closed by
// t.Cleanup, and returns the channel URL, without trailing slash. A conda
// token prefix /t/<token>/ in a request path is ignored. Every request is
// counted, see [Channel.Requests]. Serve may be called before or after Add;
// the subdirs of one channel share one server, started by the first Serve.
func (c *Channel) Serve(t testing.TB) string {
	t.Helper()
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url != "" {
		return s.url
	}
	files := http.FileServer(http.Dir(c.Dir))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = stripToken(r.URL.Path)
		r.URL.RawPath = ""
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return hs.URL
}

// stripToken removes a leading /t/<token> segment pair from a path.
func stripToken(p string) string {
	if rest, ok := strings.CutPrefix(p, "/t/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return rest[i:]
		}
	}
	return p
}

// Requests returns how many requests the server got for path, e.g.
// "/linux-64/repodata.json" (after a /t/<token> prefix is removed, without
// the query string).
func (c *Channel) Requests(path string) int {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return c.srv.requests[path]
}

// URL returns the served channel URL once Serve was called, else FileURL.
func (c *Channel) URL() string {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if c.srv.url != "" {
		return c.srv.url
	}
	return c.FileURL()
}

// FileURL returns the channel's file:// URL, without trailing slash.
func (c *Channel) FileURL() string {
	return (&url.URL{Scheme: "file", Path: c.Dir}).String()
}

// PackageURL returns base + "/" + subdir + "/" + filename, e.g. the package's
// URL with base = Serve's or FileURL's result.
func (c *Channel) PackageURL(base, filename string) string {
	return base + "/" + c.Subdir + "/" + filename
}
