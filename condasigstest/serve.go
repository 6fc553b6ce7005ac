package condasigstest

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Serve starts an HTTP server on loopback serving Dir as plain files (404
// for a missing file, whatever Content-Type the extension gives), closed by
// t.Cleanup, and returns the channel URL, without trailing slash. A conda
// token prefix /t/<token>/ in a request path is ignored. Every request is
// counted, see [Channel.Requests]. The subdirs of one channel share one
// server, started by the first Serve.
//
// Serve may come before or after Add. Packages added before it and signed
// for the channel's own URL (then its file:// URL) are signed again, for
// the served URL, in every subdir; one whose attestation names a file://
// targetChannel the test chose fails the test, with both URLs.
func (c *Channel) Serve(t testing.TB) string {
	t.Helper()
	s := c.srv
	s.serveMu.Lock()
	defer s.serveMu.Unlock()
	if u := c.served(); u != "" {
		return u
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
	s.mu.Lock()
	s.url = hs.URL
	subdirs := slices.Clone(s.subdirs)
	s.mu.Unlock()
	for _, sub := range subdirs {
		sub.signForServer(t, hs.URL)
	}
	return hs.URL
}

// signForServer signs again, for the served URL, the packages added before
// Serve for the channel's file:// URL, and fails the test on one whose
// attestation names a file:// channel the test chose.
func (c *Channel) signForServer(t testing.TB, served string) {
	t.Helper()
	c.addMu.Lock()
	defer c.addMu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(c.fileTarget)) {
		c.failFileTarget(t, name, c.fileTarget[name], served)
	}
	for _, name := range slices.Sorted(maps.Keys(c.resign)) {
		c.add(t, c.resign[name])
	}
}

// served returns the served channel URL, or "" before Serve.
func (c *Channel) served() string {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return c.srv.url
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

// URL returns the channel URL, without trailing slash: the served one once
// Serve was called, else the file:// URL of Dir. A package's URL is
// URL() + "/" + Subdir + "/" + its filename, as [Channel.Package] gives it.
func (c *Channel) URL() string {
	if u := c.served(); u != "" {
		return u
	}
	return c.fileURL()
}

// fileURL returns the channel's file:// URL, without trailing slash.
func (c *Channel) fileURL() string {
	return (&url.URL{Scheme: "file", Path: c.Dir}).String()
}
