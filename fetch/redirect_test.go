package fetch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/condasigs/condasigs/fetch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func redirectTo(target string, hits *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, target+r.URL.Path+"?token=SECRET", http.StatusFound)
	})
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var finalHits, hits atomic.Int64
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		finalHits.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(final.Close)
	hop := httptest.NewServer(redirectTo(final.URL, &hits))
	t.Cleanup(hop.Close)

	// Another host (another port on loopback) is followed by default...
	got, err := openAll(fetch.New(fetch.Options{RetryMax: -1}), hop.URL+"/x", 100)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got))

	// ...and refused by a CheckRedirect that keeps to one host, at once and
	// without retries.
	sameHost := func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("it leaves %s", via[0].URL.Host)
		}
		return nil
	}
	before := finalHits.Load()
	hits.Store(0)
	_, err = openAll(fetch.New(fetch.Options{RetryMax: 3, CheckRedirect: sameHost}), hop.URL+"/x", 100)
	fe := requireKind(t, err, fetch.KindNetwork)
	assert.Contains(t, err.Error(), "redirect to")
	assert.Contains(t, err.Error(), "leaves")
	assert.Equal(t, int64(1), hits.Load(), "a refused redirect is not retried")
	assert.Equal(t, before, finalHits.Load(), "the other host is never contacted")
	assert.NotContains(t, fe.Error(), "SECRET")
}

func TestRedirectDowngradeRefused(t *testing.T) {
	t.Parallel()
	var plainHits, hits atomic.Int64
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { plainHits.Add(1) }))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(redirectTo(plain.URL, &hits))
	t.Cleanup(secure.Close)

	caller := secure.Client()
	_, err := openAll(fetch.New(fetch.Options{HTTPClient: caller, RetryMax: -1}), secure.URL+"/x", 100)
	requireKind(t, err, fetch.KindNetwork)
	assert.Contains(t, err.Error(), "a downgrade from https")
	assert.Zero(t, plainHits.Load())
	assert.Nil(t, caller.CheckRedirect, "the caller's client is not modified")
}

func TestRedirectLoop(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, srv.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	c := fetch.New(fetch.Options{RetryMax: 3})
	_, err := c.Open(context.Background(), srv.URL+"/loop", 100)
	requireKind(t, err, fetch.KindNetwork)
	assert.Equal(t, int64(10), hits.Load(), "ten redirects, then stop, no retries")
}
