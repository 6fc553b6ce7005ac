package trustroot

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/condasigs/condasigs/fetch"
)

// TestTUFFetcher checks the adapter against the error types go-tuf
// branches on: a 404 (or 410) ends root rotation, any other status is a
// failure, and a body over the length go-tuf allows is a length mismatch.
func TestTUFFetcher(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/ok.json":
			_, _ = w.Write([]byte(`{"ok":true}`))
		case "/gone.json":
			w.WriteHeader(http.StatusGone)
		case "/forbidden.json":
			w.WriteHeader(http.StatusForbidden)
		case "/broken.json":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f := &tufFetcher{ctx: context.Background(), client: fetch.New(fetch.Options{
		HTTPClient: srv.Client(), RetryMax: -1,
	})}

	b, err := f.DownloadFile(srv.URL+"/ok.json", 100, 0)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ok":true}`, string(b))

	_, err = f.DownloadFile(srv.URL+"/ok.json", 5, 0)
	var lm *metadata.ErrDownloadLengthMismatch
	require.ErrorAs(t, err, &lm)
	assert.ErrorIs(t, err, &metadata.ErrDownload{}, "go-tuf classifies it as a download error")

	for path, status := range map[string]int{
		"/2.root.json":     404,
		"/gone.json":       404, // gone counts as not found
		"/forbidden.json":  403,
		"/broken.json":     500,
		"/t/secret/x.json": 404,
	} {
		_, err := f.DownloadFile(srv.URL+path+"?token=secret", 100, 0)
		var he *metadata.ErrDownloadHTTP
		require.ErrorAs(t, err, &he, path)
		assert.Equal(t, status, he.StatusCode, path)
		assert.NotContains(t, err.Error(), "secret", "URLs in errors are redacted")
	}

	// A connection failure stays a fetch error, which go-tuf does not take
	// for "no newer root".
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, err = f.DownloadFile(deadURL+"/2.root.json", 100, 0)
	require.Error(t, err)
	assert.ErrorIs(t, err, fetch.KindNetwork)
	var he *metadata.ErrDownloadHTTP
	assert.False(t, errors.As(err, &he))

	// The caller's context ending is returned as such.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cf := &tufFetcher{ctx: ctx, client: f.client}
	_, err = cf.DownloadFile(srv.URL+"/ok.json", 100, 0)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTUFFetcherTimeoutArgumentIgnored(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("x"))
	}))
	t.Cleanup(srv.Close)
	f := &tufFetcher{ctx: context.Background(), client: fetch.New(fetch.Options{HTTPClient: srv.Client()})}
	// go-tuf passes 0; a tiny value must not turn into an immediate timeout
	// either: timeouts come from fetch.Options.
	b, err := f.DownloadFile(srv.URL, 10, time.Nanosecond)
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))
}

func TestOfflineFetcher(t *testing.T) {
	t.Parallel()
	_, err := offlineFetcher{}.DownloadFile("https://user:pw@example.com/t/tok/2.root.json?x=secret", 100, 0)
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "offline:"), msg)
	assert.Contains(t, msg, "cache is empty or expired")
	for _, s := range []string{"pw", "tok/", "secret"} {
		assert.NotContains(t, msg, s)
	}
}

// TestTUFFetcherKeepsRoots: versioned root.json files right below the
// repository's URL are kept for the cache, nothing else.
func TestTUFFetcherKeepsRoots(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Path))
	}))
	t.Cleanup(srv.Close)
	f := &tufFetcher{ctx: context.Background(), client: fetch.New(fetch.Options{HTTPClient: srv.Client()}), metadataURL: srv.URL + "/repo/"}
	for _, p := range []string{"/repo/2.root.json", "/repo/targets/5.root.json", "/other/6.root.json", "/repo/07.root.json", "/repo/timestamp.json", "/repo/0.root.json", "/repo/3.root.json"} {
		_, err := f.DownloadFile(srv.URL+p, 100, 0)
		require.NoError(t, err)
	}
	roots := f.downloadedRoots()
	assert.Len(t, roots, 2)
	assert.Equal(t, "/repo/2.root.json", string(roots[2]))
	assert.Equal(t, "/repo/3.root.json", string(roots[3]))
}
