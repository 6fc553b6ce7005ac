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
// counted, see [Channel.Requests]. Serve may be called before or after Add.
func (c *Channel) Serve(t testing.TB) string {
	t.Helper()
	files := http.FileServer(http.Dir(c.Dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = stripToken(r.URL.Path)
		r.URL.RawPath = ""
		c.mu.Lock()
		c.requests[r.URL.Path]++
		c.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.mu.Lock()
	c.url = srv.URL
	c.mu.Unlock()
	return srv.URL
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
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[path]
}

// URL returns the served channel URL once Serve was called, else FileURL.
func (c *Channel) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.url != "" {
		return c.url
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
