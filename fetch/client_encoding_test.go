package fetch_test

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func deflated(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestRepodataCapHoldsForEveryEncoding: whatever the encodings of the
// response, MaxRepodataSize caps the bytes that ScanRepodata reads. When
// the transport decodes the body (gzip, which it asked for), those are the
// decoded bytes: a document of exactly the cap scans, one byte more is too
// large, however small it was on the wire. When nothing decodes it (an
// encoding not asked for, or gzip to a transport that asked for none),
// the parser reads the bytes as sent, under the same cap, and they are no
// JSON.
func TestRepodataCapHoldsForEveryEncoding(t *testing.T) {
	t.Parallel()
	doc := syntheticRepodata(300)
	gz, zz := gzipped(t, doc), deflated(t, doc)
	require.Less(t, 4*len(gz), len(doc), "the compressed document must be much smaller")
	noCompression := func(t *testing.T) *http.Client {
		hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		t.Cleanup(hc.CloseIdleConnections)
		return hc
	}
	for _, tt := range []struct {
		name string
		// serve sends the response, on an HTTP/1.1 server unless http2.
		serve  func(w http.ResponseWriter, r *http.Request)
		http2  bool
		client func(*testing.T) *http.Client
		// decoded: the parser reads doc itself; else it reads bytes that
		// are no JSON, and the scan fails as malformed (or, in transport,
		// the response fails before).
		decoded   bool
		transport bool
	}{
		{name: "gzip with a Content-Length", decoded: true, serve: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(gz)))
			_, _ = w.Write(gz)
		}},
		{name: "gzip, chunked", decoded: true, serve: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			writeChunked(w, gz)
		}},
		{name: "gzip over HTTP/2", decoded: true, http2: true, serve: func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor != 2 {
				t.Errorf("served over %s", r.Proto)
			}
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz)
		}},
		{name: "Content-Encoding identity", decoded: true, serve: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "identity")
			writeChunked(w, doc)
		}},
		{name: "br not asked for, plain JSON in fact", decoded: true, serve: func(w http.ResponseWriter, r *http.Request) {
			// Labelled br, left alone by the transport: the parser reads
			// the bytes as sent, under the cap.
			w.Header().Set("Content-Encoding", "br")
			writeChunked(w, doc)
		}},
		{name: "gzip not asked for", client: noCompression, serve: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			writeChunked(w, gz)
		}},
		{name: "deflate not asked for", serve: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "deflate")
			writeChunked(w, zz)
		}},
		{name: "gzip twice", serve: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip, gzip")
			writeChunked(w, gzipped(t, gz))
		}},
		{name: "Transfer-Encoding gzip, chunked", transport: true, serve: func(w http.ResponseWriter, r *http.Request) {
			conn := hijack(t, w)
			defer conn.Close()
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"+
				strconv.FormatInt(int64(len(gz)), 16)+"\r\n"+string(gz)+"\r\n0\r\n\r\n")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); tt.serve(w, r) })
			var srv *httptest.Server
			if tt.http2 {
				srv = httptest.NewUnstartedServer(h)
				srv.EnableHTTP2 = true
				srv.StartTLS()
				t.Cleanup(srv.Close)
			} else {
				srv = newTestServer(t, h).Server
			}
			client := func() *http.Client {
				switch {
				case tt.client != nil:
					return tt.client(t)
				case tt.http2:
					return srv.Client()
				}
				return nil
			}
			scan := func(limit int64) (records int, read int64, err error) {
				c := newClient(t, fetch.Options{MaxRepodataSize: limit, HTTPClient: client(), RetryMax: -1})
				body, err := c.OpenRepodata(context.Background(), srv.URL+"/chan/linux-64/repodata.json")
				if err != nil {
					return 0, 0, err
				}
				defer body.Close()
				cr := &countingReader{r: body}
				err = fetch.ScanRepodata(cr, func(fetch.Record) bool { records++; return true })
				return records, cr.n, err
			}

			capped := int64(len(doc)) - 1
			records, read, err := scan(capped)
			assert.LessOrEqual(t, read, capped, "the parser read past the cap")
			switch {
			case tt.transport:
				requireKind(t, err, fetch.KindNetwork)
				assert.Contains(t, err.Error(), "transfer encoding")
				assert.Zero(t, read)
				return
			case tt.decoded:
				requireKind(t, err, fetch.KindTooLarge)
				// At the cap, the document scans whole.
				records, read, err = scan(int64(len(doc)))
				require.NoError(t, err)
				assert.Equal(t, 300, records)
				assert.Equal(t, int64(len(doc)), read)
			default:
				requireKind(t, err, fetch.KindMalformed)
				assert.Zero(t, records)
			}
		})
	}
}
