package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/testlog"
)

// open opens u with c and reads it all.
func openAll(c *fetch.Client, u string, limit int64) ([]byte, error) {
	body, err := c.Open(context.Background(), u, limit)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return io.ReadAll(body)
}

func serveBytes(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(fetch.DefaultMaxSidecarSize), fetch.New(fetch.Options{}).MaxSidecarSize())
	assert.Equal(t, int64(fetch.DefaultMaxSidecarSize), fetch.New(fetch.Options{MaxSidecarSize: -1}).MaxSidecarSize())
	assert.Equal(t, int64(123), fetch.New(fetch.Options{MaxSidecarSize: 123}).MaxSidecarSize())
}

func TestZeroOptionsClientFetches(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serveBytes([]byte("hello")))
	got, err := openAll(fetch.New(fetch.Options{}), srv.URL+"/x", 5)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
}

func TestOpenSendsUserAgentAndFollowsRedirects(t *testing.T) {
	t.Parallel()
	var ua atomic.Value
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		ua.Store(r.UserAgent())
		_, _ = w.Write([]byte("moved"))
	})
	c := newClient(t, fetch.Options{UserAgent: "condasigs-test/1"})
	got, err := openAll(c, srv.URL+"/old", 100)
	require.NoError(t, err)
	assert.Equal(t, "moved", string(got))
	assert.Equal(t, "condasigs-test/1", ua.Load())
	assert.Equal(t, 2, srv.Hits())
}

func TestOpenInvalidURL(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serveBytes([]byte("x")))
	c := newClient(t, fetch.Options{AllowFile: true})
	for _, u := range []string{
		"",
		"relative/path",
		"ftp://" + srv.Listener.Addr().String() + "/x",
		"gopher://h/x",
		"http:///x",
		"https:x",
		"http://[::1/x",
		"file://remote.example/etc/passwd",
	} {
		_, err := c.Open(context.Background(), u, 10)
		requireKind(t, err, fetch.KindInvalidURL)
	}
	assert.Equal(t, 0, srv.Hits())
}

func TestOpenHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   fetch.Kind
		hits   int
	}{
		{http.StatusNotFound, fetch.KindNotFound, 1}, // never retried
		{http.StatusGone, fetch.KindNotFound, 1},
		{http.StatusForbidden, fetch.KindHTTPStatus, 1},
		{http.StatusUnauthorized, fetch.KindHTTPStatus, 1},
		{http.StatusBadRequest, fetch.KindHTTPStatus, 1},
		{http.StatusNoContent, fetch.KindHTTPStatus, 1},
		{http.StatusPartialContent, fetch.KindHTTPStatus, 1},
		{http.StatusNotImplemented, fetch.KindHTTPStatus, 1},
		{http.StatusInternalServerError, fetch.KindHTTPStatus, testRetryMax + 1},
		{http.StatusBadGateway, fetch.KindHTTPStatus, testRetryMax + 1},
		{http.StatusServiceUnavailable, fetch.KindHTTPStatus, testRetryMax + 1},
		{http.StatusTooManyRequests, fetch.KindHTTPStatus, testRetryMax + 1},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte("sidecar-looking body that must not be returned"))
			})
			_, err := openAll(newClient(t, fetch.Options{}), srv.URL+"/c/noarch/p.conda.sigs."+d64, 1<<20)
			fe := requireKind(t, err, tt.want)
			assert.Equal(t, tt.status, fe.StatusCode)
			assert.Equal(t, srv.URL+"/c/noarch/p.conda.sigs."+d64, fe.URL)
			assert.Contains(t, err.Error(), strconv.Itoa(tt.status))
			assert.Equal(t, tt.hits, srv.Hits())
		})
	}
}

func TestOpenNegativeRetryMaxMeansNoRetries(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	_, err := openAll(newClient(t, fetch.Options{RetryMax: -1}), srv.URL+"/x", 10)
	requireKind(t, err, fetch.KindHTTPStatus)
	assert.Equal(t, 1, srv.Hits())
}

func TestOpenRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	first := map[string]func(t *testing.T, w http.ResponseWriter){
		"500": func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
		"503": func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		"429 Retry-After 0": func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		},
		"hang-up": hangUp,
		"reset":   resetConn,
	}
	for name, fail := range first {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					fail(t, w)
					return
				}
				_, _ = w.Write([]byte("second time lucky"))
			})
			got, err := openAll(newClient(t, fetch.Options{}), srv.URL+"/x", 100)
			require.NoError(t, err)
			assert.Equal(t, "second time lucky", string(got))
			assert.Equal(t, 2, srv.Hits())
		})
	}
}

func TestOpenNetworkFailure(t *testing.T) {
	t.Parallel()
	for name, fail := range map[string]func(*testing.T, http.ResponseWriter){"hang-up": hangUp, "reset": resetConn} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { fail(t, w) })
			_, err := openAll(newClient(t, fetch.Options{}), srv.URL+"/x", 100)
			fe := requireKind(t, err, fetch.KindNetwork)
			assert.Zero(t, fe.StatusCode)
			assert.Equal(t, testRetryMax+1, srv.Hits())
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, serveBytes(nil))
		u := srv.URL + "/x"
		srv.Close()
		_, err := openAll(newClient(t, fetch.Options{}), u, 100)
		requireKind(t, err, fetch.KindNetwork)
	})
}

func TestOpenSizeCap(t *testing.T) {
	t.Parallel()
	const limit = 10_000
	exact, over := repeat('a', limit), repeat('b', limit+1)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		data    []byte // nil: too large
		onOpen  bool   // too large already at Open, from the Content-Length
	}{
		{"content-length at the cap", serveBytes(exact), exact, false},
		{"chunked at the cap", func(w http.ResponseWriter, r *http.Request) { writeChunked(w, exact) }, exact, false},
		{"content-length over the cap", serveBytes(over), nil, true},
		{"chunked over the cap", func(w http.ResponseWriter, r *http.Request) { writeChunked(w, over) }, nil, false},
		{"chunked far over the cap", func(w http.ResponseWriter, r *http.Request) { writeChunked(w, repeat('c', 50*limit)) }, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, tt.handler)
			c := newClient(t, fetch.Options{})
			body, err := c.Open(context.Background(), srv.URL+"/x", limit)
			if tt.onOpen {
				requireKind(t, err, fetch.KindTooLarge)
				return
			}
			require.NoError(t, err)
			defer body.Close()
			got, err := io.ReadAll(body)
			if tt.data != nil {
				require.NoError(t, err)
				assert.Equal(t, tt.data, got)
				return
			}
			fe := requireKind(t, err, fetch.KindTooLarge)
			assert.Contains(t, fe.Error(), strconv.Itoa(limit))
			assert.LessOrEqual(t, len(got), limit, "bytes past the cap were returned")
			// The failure sticks.
			n, err := body.Read(make([]byte, 10))
			assert.Zero(t, n)
			requireKind(t, err, fetch.KindTooLarge)
		})
	}
}

func TestOpenSizeCapWithSmallReads(t *testing.T) {
	t.Parallel()
	const limit = 300
	for _, size := range []int{0, 1, limit - 1, limit, limit + 1, limit + 2} {
		data := repeat('z', size)
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeChunked(w, data) })
		body, err := newClient(t, fetch.Options{}).Open(context.Background(), srv.URL+"/x", limit)
		require.NoError(t, err)
		got, err := io.ReadAll(iotest.OneByteReader(body))
		body.Close()
		if size <= limit {
			require.NoErrorf(t, err, "size %d", size)
			assert.Equal(t, data, got)
		} else {
			requireKind(t, err, fetch.KindTooLarge)
			assert.Len(t, got, limit)
		}
	}
}

func TestOpenZeroLimit(t *testing.T) {
	t.Parallel()
	empty := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeChunked(w, nil) })
	got, err := openAll(newClient(t, fetch.Options{}), empty.URL+"/x", 0)
	require.NoError(t, err)
	assert.Empty(t, got)

	one := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeChunked(w, []byte("x")) })
	_, err = openAll(newClient(t, fetch.Options{}), one.URL+"/x", 0)
	requireKind(t, err, fetch.KindTooLarge)
}

func TestOpenHugeContentLengthFailsBeforeReading(t *testing.T) {
	t.Parallel()
	// The server announces a terabyte, sends three bytes and waits: only the
	// Content-Length check can answer before the timeout.
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn := hijack(t, w)
		defer conn.Close()
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\nabc")
		_, _ = io.Copy(io.Discard, conn) // until the client hangs up
	})
	c := newClient(t, fetch.Options{Timeout: 10 * time.Second})
	err := within(t, func() error {
		_, err := c.Open(context.Background(), srv.URL+"/x", 1<<20)
		return err
	})
	requireKind(t, err, fetch.KindTooLarge)
	assert.Equal(t, 1, srv.Hits())
}

func TestOpenTruncatedBody(t *testing.T) {
	t.Parallel()
	responses := map[string]string{
		"lying content-length": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 50),
		"truncated chunk":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + strings.Repeat("x", 50),
		"missing last chunk":   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n" + strings.Repeat("x", 50) + "\r\n",
	}
	for name, resp := range responses {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				conn := hijack(t, w)
				_, _ = io.WriteString(conn, resp)
				conn.Close()
			})
			got, err := openAll(newClient(t, fetch.Options{}), srv.URL+"/x", 1000)
			requireKind(t, err, fetch.KindNetwork)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.LessOrEqual(t, len(got), 50)
		})
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestOpenGzipBomb(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	bomb := gzipped(t, make([]byte, 4<<20)) // 4 MiB of zeros
	require.Less(t, len(bomb), limit, "the compressed bomb must fit under the cap")
	// The server sends the bomb whatever the client asked for, with the
	// small compressed length, and records the Accept-Encoding it got.
	bombServer := func(t *testing.T) (*testServer, *atomic.Value) {
		var acceptEncoding atomic.Value
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			acceptEncoding.Store(r.Header.Get("Accept-Encoding"))
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
			_, _ = w.Write(bomb)
		})
		return srv, &acceptEncoding
	}

	t.Run("transport decodes", func(t *testing.T) {
		t.Parallel()
		// Go's transport asks for gzip itself and decodes transparently: the
		// cap applies to the decoded bytes.
		srv, acceptEncoding := bombServer(t)
		got, err := openAll(newClient(t, fetch.Options{}), srv.URL+"/x", limit)
		requireKind(t, err, fetch.KindTooLarge)
		assert.LessOrEqual(t, len(got), limit)
		assert.Equal(t, "gzip", acceptEncoding.Load())
	})

	t.Run("transport does not decode", func(t *testing.T) {
		t.Parallel()
		// Without compression, Go leaves an unasked-for Content-Encoding
		// alone: the raw, compressed bytes come through, under the cap.
		srv, acceptEncoding := bombServer(t)
		hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		t.Cleanup(hc.CloseIdleConnections)
		got, err := openAll(newClient(t, fetch.Options{HTTPClient: hc}), srv.URL+"/x", limit)
		require.NoError(t, err)
		assert.Equal(t, bomb, got)
		assert.Equal(t, "", acceptEncoding.Load())

		// With a cap under the compressed size, the cap still holds.
		_, err = openAll(newClient(t, fetch.Options{HTTPClient: hc}), srv.URL+"/x", int64(len(bomb)-1))
		requireKind(t, err, fetch.KindTooLarge)
	})
}

// result is what a call returned, for within.
type result struct {
	data []byte
	err  error
}

func TestOpenTimeout(t *testing.T) {
	t.Parallel()
	t.Run("body drips forever", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, drip)
		c := newClient(t, fetch.Options{Timeout: 150 * time.Millisecond})
		res := within(t, func() result {
			b, err := openAll(c, srv.URL+"/x", 1<<30)
			return result{b, err}
		})
		requireKind(t, res.err, fetch.KindNetwork)
		require.ErrorIs(t, res.err, context.DeadlineExceeded)
		assert.Equal(t, 1, srv.Hits())
	})
	t.Run("headers never come", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := newClient(t, fetch.Options{Timeout: 150 * time.Millisecond})
		err := within(t, func() error {
			_, err := c.Open(context.Background(), srv.URL+"/x", 100)
			return err
		})
		fe := requireKind(t, err, fetch.KindNetwork)
		assert.Contains(t, fe.Msg, "timed out")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, srv.Hits(), "a timed-out retrieval is not retried")
	})
	t.Run("server keeps failing slowly", func(t *testing.T) {
		t.Parallel()
		// The timeout bounds the retries too: long waits are cut short.
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		c := newClient(t, fetch.Options{Timeout: 150 * time.Millisecond, RetryMax: 100,
			RetryWaitMin: time.Hour, RetryWaitMax: time.Hour})
		err := within(t, func() error {
			_, err := c.Open(context.Background(), srv.URL+"/x", 100)
			return err
		})
		requireKind(t, err, fetch.KindNetwork)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, srv.Hits())
	})
}

func TestOpenCallerCancellation(t *testing.T) {
	t.Parallel()
	t.Run("before the call", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, serveBytes([]byte("x")))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient(t, fetch.Options{}).Open(ctx, srv.URL+"/x", 100)
		requireCanceled(t, err)
	})
	t.Run("waiting for headers", func(t *testing.T) {
		t.Parallel()
		arrived := make(chan struct{}, 1)
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		err := within(t, func() error {
			_, err := newClient(t, fetch.Options{}).Open(ctx, srv.URL+"/x", 100)
			return err
		})
		requireCanceled(t, err)
		assert.Equal(t, 1, srv.Hits(), "a cancelled retrieval is not retried")
	})
	t.Run("reading the body", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		body, err := newClient(t, fetch.Options{}).Open(ctx, srv.URL+"/x", 100)
		require.NoError(t, err)
		defer body.Close()
		buf := make([]byte, len("partial"))
		_, err = io.ReadFull(body, buf)
		require.NoError(t, err)
		cancel()
		res := within(t, func() result { b, err := io.ReadAll(body); return result{b, err} })
		requireCanceled(t, res.err)
	})
	t.Run("waiting to retry", func(t *testing.T) {
		t.Parallel()
		failed := make(chan struct{}, 1)
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			select {
			case failed <- struct{}{}:
			default:
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-failed; cancel() }()
		c := newClient(t, fetch.Options{RetryWaitMin: time.Hour, RetryWaitMax: time.Hour})
		err := within(t, func() error {
			_, err := c.Open(ctx, srv.URL+"/x", 100)
			return err
		})
		requireCanceled(t, err)
	})
}

func TestOpenRedirectToFileIsNotFollowed(t *testing.T) {
	t.Parallel()
	secret := []byte("local file contents")
	p := writeFile(t, t.TempDir(), "secret.txt", secret)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fileURL(p), http.StatusFound)
	})
	got, err := openAll(newClient(t, fetch.Options{AllowFile: true}), srv.URL+"/x", 1000)
	requireKind(t, err, fetch.KindNetwork)
	assert.Empty(t, got)
	assert.NotContains(t, err.Error(), string(secret))
	assert.Equal(t, 1, srv.Hits(), "a refused redirect is not retried")
}

func TestOpenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := []byte("local sidecar")
	p := writeFile(t, dir, "chan/noarch/p.conda.sigs."+d64, data)
	ctx := context.Background()

	t.Run("disabled by default", func(t *testing.T) {
		t.Parallel()
		for _, c := range []*fetch.Client{fetch.New(fetch.Options{}), newClient(t, fetch.Options{})} {
			_, err := c.Open(ctx, fileURL(p), 100)
			fe := requireKind(t, err, fetch.KindInvalidURL)
			assert.Contains(t, fe.Msg, "AllowFile")
			_, err = c.OpenRepodata(ctx, fileURL(p))
			requireKind(t, err, fetch.KindInvalidURL)
		}
	})
	allowed := fetch.New(fetch.Options{AllowFile: true})
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		for _, u := range []string{fileURL(p), "file://localhost" + fileURL(p)[len("file://"):]} {
			got, err := openAll(allowed, u, int64(len(data)))
			require.NoErrorf(t, err, "%s", u)
			assert.Equal(t, data, got)
		}
	})
	t.Run("over the cap", func(t *testing.T) {
		t.Parallel()
		got, err := openAll(allowed, fileURL(p), int64(len(data)-1))
		requireKind(t, err, fetch.KindTooLarge)
		assert.Len(t, got, len(data)-1)
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, err := allowed.Open(ctx, fileURL(p+".missing"), 100)
		requireKind(t, err, fetch.KindNotFound)
		_, err = allowed.Open(ctx, fileURL(dir+"/no/such/dir/file"), 100)
		requireKind(t, err, fetch.KindNotFound)
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		_, err := allowed.Open(ctx, fileURL(dir+"/chan"), 100)
		requireKind(t, err, fetch.KindNotFound)
	})
	t.Run("remote host", func(t *testing.T) {
		t.Parallel()
		_, err := allowed.Open(ctx, "file://fileserver"+fileURL(p)[len("file://"):], 100)
		requireKind(t, err, fetch.KindInvalidURL)
	})
	t.Run("open fails", func(t *testing.T) {
		t.Parallel()
		// A path through a regular file fails with ENOTDIR, not ENOENT. The
		// error must not repeat the path unredacted (it holds a /t/ token).
		tdir := t.TempDir()
		writeFile(t, tdir, "t/"+pathSecret+"/chan/noarch/p.conda", data)
		_, err := allowed.Open(ctx, fileURL(tdir+"/t/"+pathSecret+"/chan/noarch/p.conda/sub"), 100)
		requireKind(t, err, fetch.KindNetwork)
		requireNoSecrets(t, err.Error(), pathSecret)
		assert.Contains(t, err.Error(), "/t/REDACTED/")
	})
}

func TestLoggerRecordsRequestsAndRetries(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	logger, buf := testlog.New()
	_, err := openAll(newClient(t, fetch.Options{Logger: logger}), srv.URL+"/c/noarch/p.conda", 10)
	require.NoError(t, err)
	logs := buf.String()
	assert.Contains(t, logs, "condasigs: GET")
	assert.Contains(t, logs, "url="+srv.URL+"/c/noarch/p.conda")
	assert.Contains(t, logs, "condasigs: retrying request")
	assert.Contains(t, logs, fmt.Sprintf("status=%d", http.StatusServiceUnavailable))
}

// Many sidecars fetched at once from one host reuse their connections:
// the client's own transport keeps more than the standard library's two
// idle connections a host.
func TestClientReusesConnectionsToOneHost(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(100)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := fetch.New(fetch.Options{})
	const workers, each = 16, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				rc, err := c.Open(context.Background(), srv.URL+"/x", 1<<20)
				if assert.NoError(t, err) {
					_, _ = io.Copy(io.Discard, rc)
					rc.Close()
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, conns.Load(), int64(2*workers), "%d connections for %d requests", conns.Load(), workers*each)
}

// A cap as large as an int64 allows is a cap like any other: reading under
// it neither overflows nor panics (a record's size can say so).
func TestOpenLargestCap(t *testing.T) {
	t.Parallel()
	data := repeat('q', 5000)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeChunked(w, data) })
	for _, limit := range []int64{math.MaxInt64, math.MaxInt64 - 1} {
		body, err := newClient(t, fetch.Options{}).Open(context.Background(), srv.URL+"/x", limit)
		require.NoError(t, err)
		got, err := io.ReadAll(body)
		body.Close()
		require.NoError(t, err)
		assert.Equal(t, data, got)
	}
}
