package fetch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// testRetryMax is the RetryMax of the clients built by newClient, so that a
// retried failure makes exactly testRetryMax+1 requests.
const testRetryMax = 2

// testServer is an httptest server that counts the requests it receives.
// The context of every request it serves ends when the client goes away or
// when the test ends, so that blocking handlers never hold up Close.
type testServer struct {
	*httptest.Server
	hits atomic.Int64
	stop chan struct{}
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{stop: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		h(w, r.WithContext(ctx))
	}))
	// Cleanups run last-in first-out: release blocked handlers, then close.
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.stop) })
	return s
}

// Hits returns the number of requests served so far.
func (s *testServer) Hits() int { return int(s.hits.Load()) }

// newClient returns a client with tiny retry waits and testRetryMax retries
// unless opts says otherwise, on an HTTP client whose idle connections are
// closed when the test ends.
func newClient(t *testing.T, opts fetch.Options) *fetch.Client {
	t.Helper()
	if opts.RetryMax == 0 {
		opts.RetryMax = testRetryMax
	}
	if opts.RetryWaitMin == 0 {
		opts.RetryWaitMin = time.Millisecond
	}
	if opts.RetryWaitMax == 0 {
		opts.RetryWaitMax = 5 * time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.HTTPClient == nil {
		hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		t.Cleanup(hc.CloseIdleConnections)
		opts.HTTPClient = hc
	}
	return fetch.New(opts)
}

const d64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256("")

// requireKind asserts that err is a *fetch.Error of kind want, matched by
// errors.Is and KindOf alike, and returns it.
func requireKind(t *testing.T, err error, want fetch.Kind) *fetch.Error {
	t.Helper()
	require.Error(t, err)
	require.Truef(t, errors.Is(err, want), "error %q (kind %q) is not %q", err, fetch.KindOf(err), want)
	require.Equal(t, want, fetch.KindOf(err))
	var fe *fetch.Error
	require.ErrorAs(t, err, &fe)
	return fe
}

// requireCanceled asserts that err is the caller's cancellation, not a
// fetch failure.
func requireCanceled(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)
	var fe *fetch.Error
	require.Falsef(t, errors.As(err, &fe), "cancellation reported as a fetch failure: %v", err)
	require.Equal(t, fetch.Kind(""), fetch.KindOf(err))
}

// within fails the test if f has not returned after a generous bound; it
// guards against hangs and is no timing assertion.
func within[T any](t *testing.T, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("the call did not return")
		panic("unreachable")
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// record returns a repodata record of filename advertising data as its
// sidecar.
func record(filename string, data []byte) fetch.Record {
	return fetch.Record{Filename: filename, Name: "pkg", Version: "1.0", Build: "0", AttestationsSHA256: digestOf(data)}
}

// fileURL returns the file:// URL of a local path.
func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// writeFile creates dir/rel with data, making the directories on the way.
func writeFile(t *testing.T, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// hijack takes over the connection of a request.
func hijack(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		panic(http.ErrAbortHandler)
	}
	return conn
}

// hangUp closes the connection without a response.
func hangUp(t *testing.T, w http.ResponseWriter) { hijack(t, w).Close() }

// resetConn aborts the connection with a TCP reset.
func resetConn(t *testing.T, w http.ResponseWriter) {
	conn := hijack(t, w)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// writeChunked sends data without a Content-Length, flushed in small pieces.
func writeChunked(w http.ResponseWriter, data []byte) {
	f := w.(http.Flusher)
	w.WriteHeader(http.StatusOK)
	f.Flush() // headers out before any byte: no Content-Length is possible
	for len(data) > 0 {
		n := min(len(data), 1000)
		if _, err := w.Write(data[:n]); err != nil {
			return
		}
		f.Flush()
		data = data[n:]
	}
}

// drip sends one byte at a time until the request's context ends.
func drip(w http.ResponseWriter, r *http.Request) {
	f := w.(http.Flusher)
	w.WriteHeader(http.StatusOK)
	f.Flush()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := w.Write([]byte{'['}); err != nil {
				return
			}
			f.Flush()
		}
	}
}

// requireNoSecrets asserts that none of secrets occurs in s.
func requireNoSecrets(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		require.NotContainsf(t, s, secret, "secret %q leaked in %q", secret, s)
	}
}

// repeat returns n copies of b.
func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// sidecarJSON is a syntactically plausible sidecar body.
func sidecarJSON(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","pad":"`)
	for sb.Len() < n-3 {
		sb.WriteByte('x')
	}
	sb.WriteString(`"}]`)
	return []byte(sb.String())[:max(n, 0)]
}

// mustDirCache is fetch.NewDirCache(dir), which must succeed.
func mustDirCache(t testing.TB, dir string) fetch.Cache {
	t.Helper()
	c, err := fetch.NewDirCache(dir)
	require.NoError(t, err)
	return c
}
