package fetch_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/fetchctx"
)

// Asked with fetchctx.WithQuery, Open says what it would do and retrieves
// nothing: the sidecar cap, and the error it returns for the URL before
// any retrieval.
func TestOpenAnswersQueries(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serveBytes([]byte("hello")))
	for _, c := range []struct {
		opts fetch.Options
		url  string
		cap  int64
		kind fetch.Kind
	}{
		{fetch.Options{}, srv.URL + "/x", fetch.DefaultMaxSidecarSize, ""},
		{fetch.Options{MaxSidecarSize: 100}, srv.URL + "/x", 100, ""},
		{fetch.Options{}, fileURL(t.TempDir()) + "/x", fetch.DefaultMaxSidecarSize, fetch.KindInvalidURL},
		{fetch.Options{AllowFile: true}, fileURL(t.TempDir()) + "/x", fetch.DefaultMaxSidecarSize, ""},
		{fetch.Options{}, "ftp://h/x", fetch.DefaultMaxSidecarSize, fetch.KindInvalidURL},
	} {
		var q fetchctx.Query
		body, err := newClient(t, c.opts).Open(fetchctx.WithQuery(context.Background(), &q), c.url, 1)
		assert.Nil(t, body)
		assert.ErrorIs(t, err, fetchctx.ErrQueried)
		assert.True(t, q.Answered)
		assert.Equal(t, c.cap, q.MaxSidecarSize)
		if c.kind == "" {
			assert.NoError(t, q.URLErr, c.url)
		} else {
			requireKind(t, q.URLErr, c.kind)
		}
	}
	assert.Zero(t, srv.Hits(), "a query retrieves nothing")
}

// fetchctx.WithTimeout replaces Options.Timeout, body included.
func TestOpenTimeoutFromContext(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		_, _ = w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte("b"))
	})
	c := newClient(t, fetch.Options{Timeout: 100 * time.Millisecond, RetryMax: -1})
	read := func(ctx context.Context) ([]byte, error) {
		body, err := c.Open(ctx, srv.URL+"/x", 2)
		if err != nil {
			return nil, err
		}
		defer body.Close()
		return io.ReadAll(body)
	}
	_, err := read(context.Background())
	require.Error(t, err, "Options.Timeout bounds the body")
	got, err := read(fetchctx.WithTimeout(context.Background(), 10*time.Second))
	require.NoError(t, err)
	assert.Equal(t, "ab", string(got))
}
