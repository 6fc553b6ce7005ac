package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/testlog"
)

const pkgFile = "pkg-1.0-0.conda"

// sidecarServer serves data at <channel>/noarch/pkg-1.0-0.conda.sigs.<digest>
// and records the path and raw query of the last request.
type sidecarServer struct {
	*testServer
	mu       sync.Mutex
	path     string
	rawQuery string
}

func newSidecarServer(t *testing.T, data []byte) *sidecarServer {
	s := &sidecarServer{}
	s.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.path, s.rawQuery = r.URL.Path, r.URL.RawQuery
		s.mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/noarch/"+pkgFile+".sigs."+digestOf(data)) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html") // never a reason to reject
		_, _ = w.Write(data)
	})
	return s
}

func (s *sidecarServer) last() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path, s.rawQuery
}

func TestFetchSidecar(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(500)
	srv := newSidecarServer(t, data)
	c := newClient(t, fetch.Options{})
	sc, err := c.FetchSidecar(context.Background(), srv.URL+"/chan/noarch/"+pkgFile, record(pkgFile, data))
	require.NoError(t, err)
	assert.Equal(t, data, sc.Data)
	assert.Equal(t, digestOf(data), sc.SHA256)
	assert.Equal(t, srv.URL+"/chan/noarch/"+pkgFile+".sigs."+digestOf(data), sc.URL)
	assert.Equal(t, 1, srv.Hits())
}

func TestFetchSidecarKeepsQueryDropsFragment(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(200)
	srv := newSidecarServer(t, data)
	c := newClient(t, fetch.Options{})
	sc, err := c.FetchSidecar(context.Background(),
		srv.URL+"/chan/noarch/"+pkgFile+"?token=SECRET&b=2#fragment", record(pkgFile, data))
	require.NoError(t, err)
	p, q := srv.last()
	assert.Equal(t, "/chan/noarch/"+pkgFile+".sigs."+digestOf(data), p)
	assert.Equal(t, "token=SECRET&b=2", q, "the token must reach the server")
	assert.Equal(t, srv.URL+"/chan/noarch/"+pkgFile+".sigs."+digestOf(data)+"?REDACTED", sc.URL)
	assert.NotContains(t, sc.URL, "SECRET")
	assert.NotContains(t, sc.URL, "fragment")
}

func TestFetchSidecarEmptyBody(t *testing.T) {
	t.Parallel()
	// fetch does not parse: an empty sidecar that hashes right is returned.
	srv := newSidecarServer(t, []byte{})
	sc, err := newClient(t, fetch.Options{}).FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, nil))
	require.NoError(t, err)
	assert.Empty(t, sc.Data)
	assert.Equal(t, d64, sc.SHA256)
}

func TestFetchSidecarNotAdvertised(t *testing.T) {
	t.Parallel()
	srv := newSidecarServer(t, []byte("[]"))
	rec := fetch.Record{Filename: pkgFile, Name: "pkg"}
	sc, err := newClient(t, fetch.Options{}).FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, rec)
	requireKind(t, err, fetch.KindNotAdvertised)
	assert.Contains(t, err.Error(), pkgFile)
	assert.Nil(t, sc)
	assert.Equal(t, 0, srv.Hits(), "no request for an unadvertised sidecar")
}

func TestFetchSidecarInvalidDigest(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("[]")) })
	c := newClient(t, fetch.Options{})
	// conda's tests cover every form; here: refused before any request,
	// as a retrieval failure.
	for _, bad := range map[string]string{"short": d64[:63], "uppercase": strings.ToUpper(d64), "traversal": "../" + d64[3:]} {
		rec := fetch.Record{Filename: pkgFile, AttestationsSHA256: bad}
		sc, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, rec)
		requireKind(t, err, fetch.KindInvalidDigest)
		assert.Nil(t, sc)
	}
	assert.Equal(t, 0, srv.Hits(), "no request for an invalid digest")
}

func TestFetchSidecarInvalidPackageURL(t *testing.T) {
	t.Parallel()
	c := newClient(t, fetch.Options{AllowFile: true})
	for _, u := range []string{"", "ftp://h/c/noarch/p.conda", "https:///c/noarch/p.conda", "https://h/c/noarch/", "file://remote/c/noarch/p.conda"} {
		_, err := c.FetchSidecar(context.Background(), u, record(pkgFile, nil))
		requireKind(t, err, fetch.KindInvalidURL)
	}
}

func TestFetchSidecarHashMismatch(t *testing.T) {
	t.Parallel()
	want := sidecarJSON(300)
	for name, served := range map[string][]byte{
		"different bytes":  sidecarJSON(301),
		"one extra byte":   append(append([]byte{}, want...), ' '),
		"one byte short":   want[:len(want)-1],
		"one byte flipped": append(append([]byte{}, want[:len(want)-1]...), 'X'),
		"empty":            {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, serveBytes(served))
			sc, err := newClient(t, fetch.Options{}).FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, want))
			fe := requireKind(t, err, fetch.KindHashMismatch)
			assert.Nil(t, sc)
			assert.Contains(t, fe.Msg, digestOf(served))
			assert.Contains(t, fe.Msg, digestOf(want))
			assert.Equal(t, 1, srv.Hits(), "a hash mismatch is not retried")
		})
	}
}

func TestFetchSidecarSizeCap(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(5000)
	for _, chunked := range []bool{false, true} {
		handler := serveBytes(data)
		if chunked {
			handler = func(w http.ResponseWriter, r *http.Request) { writeChunked(w, data) }
		}
		srv := newTestServer(t, handler)
		u := srv.URL + "/c/noarch/" + pkgFile

		sc, err := newClient(t, fetch.Options{MaxSidecarSize: int64(len(data))}).FetchSidecar(context.Background(), u, record(pkgFile, data))
		require.NoErrorf(t, err, "chunked=%v: exactly at the cap", chunked)
		assert.Equal(t, data, sc.Data)

		sc, err = newClient(t, fetch.Options{MaxSidecarSize: int64(len(data) - 1)}).FetchSidecar(context.Background(), u, record(pkgFile, data))
		requireKind(t, err, fetch.KindTooLarge)
		assert.Nil(t, sc)
	}
}

func TestFetchSidecarDefaultCap(t *testing.T) {
	t.Parallel()
	big := repeat('[', fetch.DefaultMaxSidecarSize+1)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeChunked(w, big) })
	c := fetch.New(fetch.Options{})
	_, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, big))
	fe := requireKind(t, err, fetch.KindTooLarge)
	assert.Contains(t, fe.Msg, strconv.Itoa(fetch.DefaultMaxSidecarSize))
}

func TestFetchSidecarGzipBomb(t *testing.T) {
	t.Parallel()
	decoded := make([]byte, 4<<20)
	bomb := gzipped(t, decoded)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb)
	})
	c := newClient(t, fetch.Options{MaxSidecarSize: 1 << 20})
	_, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, decoded))
	requireKind(t, err, fetch.KindTooLarge)
}

func TestFetchSidecarRetrievalFailures(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(400)
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    fetch.Kind
		hits    int
	}{
		{"404", status(http.StatusNotFound), fetch.KindNotFound, 1},
		{"410", status(http.StatusGone), fetch.KindNotFound, 1},
		{"403", status(http.StatusForbidden), fetch.KindHTTPStatus, 1},
		{"500", status(http.StatusInternalServerError), fetch.KindHTTPStatus, testRetryMax + 1},
		{"hang-up", func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) }, fetch.KindNetwork, testRetryMax + 1},
		{"reset", func(w http.ResponseWriter, r *http.Request) { resetConn(t, w) }, fetch.KindNetwork, testRetryMax + 1},
		{"truncated", func(w http.ResponseWriter, r *http.Request) {
			conn := hijack(t, w)
			_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(data), data[:len(data)/2])
			conn.Close()
		}, fetch.KindNetwork, 1},
		{"too large by content-length", serveBytes(sidecarJSON(2000)), fetch.KindTooLarge, 1},
		{"too large chunked", func(w http.ResponseWriter, r *http.Request) { writeChunked(w, sidecarJSON(2000)) }, fetch.KindTooLarge, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, tt.handler)
			c := newClient(t, fetch.Options{MaxSidecarSize: 1000})
			sc, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, data))
			requireKind(t, err, tt.want)
			assert.Nil(t, sc)
			assert.Equal(t, tt.hits, srv.Hits())
		})
	}
}

func TestFetchSidecarTimeout(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, drip)
	c := newClient(t, fetch.Options{Timeout: 150 * time.Millisecond})
	err := within(t, func() error {
		_, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, []byte("[]")))
		return err
	})
	requireKind(t, err, fetch.KindNetwork)
}

func TestFetchSidecarCallerCancellation(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		drip(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	c := newClient(t, fetch.Options{})
	err := within(t, func() error {
		_, err := c.FetchSidecar(ctx, srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, []byte("[]")))
		return err
	})
	requireCanceled(t, err)
}

func TestFetchSidecarFromFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := sidecarJSON(300)
	writeFile(t, dir, "chan/noarch/"+pkgFile+".sigs."+digestOf(data), data)
	pkgURL := fileURL(dir + "/chan/noarch/" + pkgFile)
	ctx := context.Background()

	_, err := newClient(t, fetch.Options{}).FetchSidecar(ctx, pkgURL, record(pkgFile, data))
	requireKind(t, err, fetch.KindInvalidURL)

	c := newClient(t, fetch.Options{AllowFile: true})
	sc, err := c.FetchSidecar(ctx, pkgURL, record(pkgFile, data))
	require.NoError(t, err)
	assert.Equal(t, data, sc.Data)
	assert.Equal(t, pkgURL+".sigs."+digestOf(data), sc.URL)

	other := sidecarJSON(301)
	_, err = c.FetchSidecar(ctx, pkgURL, record(pkgFile, other))
	requireKind(t, err, fetch.KindNotFound)

	// A file that is there under the advertised name but with other bytes.
	writeFile(t, dir, "chan/noarch/"+pkgFile+".sigs."+digestOf(other), data)
	_, err = c.FetchSidecar(ctx, pkgURL, record(pkgFile, other))
	requireKind(t, err, fetch.KindHashMismatch)

	_, err = newClient(t, fetch.Options{AllowFile: true, MaxSidecarSize: int64(len(data) - 1)}).FetchSidecar(ctx, pkgURL, record(pkgFile, data))
	requireKind(t, err, fetch.KindTooLarge)
}

func TestFetchSidecarRedirectToFile(t *testing.T) {
	t.Parallel()
	data := sidecarJSON(300)
	local := writeFile(t, t.TempDir(), "sidecar", data)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fileURL(local), http.StatusMovedPermanently)
	})
	c := newClient(t, fetch.Options{AllowFile: true})
	sc, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, data))
	requireKind(t, err, fetch.KindNetwork)
	assert.Nil(t, sc)
	assert.Equal(t, 1, srv.Hits())
}

func TestFetchSidecarConcurrent(t *testing.T) {
	t.Parallel()
	c := newClient(t, fetch.Options{})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 16 {
		data := sidecarJSON(200 + i)
		srv := newSidecarServer(t, data)
		wg.Go(func() {
			sc, err := c.FetchSidecar(context.Background(), srv.URL+"/c/noarch/"+pkgFile, record(pkgFile, data))
			if assert.NoError(t, err) && assert.Equal(t, data, sc.Data) {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(16), ok.Load())
}

// The secrets of TestCredentialsNeverLeak, one per place a credential hides.
const (
	userSecret  = "USERSECRETxyz"
	passSecret  = "PASSSECRETxyz"
	querySecret = "QUERYSECRETxyz"
	pathSecret  = "PATHSECRETxyz"
)

var allSecrets = []string{userSecret, passSecret, querySecret, pathSecret}

func TestCredentialsNeverLeak(t *testing.T) {
	t.Parallel()
	good := sidecarJSON(300)
	localFile := writeFile(t, t.TempDir(), "local", good)
	var badCredentials atomic.Int64
	slow := make(chan struct{}, 1)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if user != userSecret || pass != passSecret || r.URL.Query().Get("token") != querySecret ||
			!strings.HasPrefix(r.URL.Path, "/t/"+pathSecret+"/chan/noarch/") {
			badCredentials.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mode, _, _ := strings.Cut(path.Base(r.URL.Path), ".")
		switch mode {
		case "ok":
			_, _ = w.Write(good)
		case "missing", "repodata":
			w.WriteHeader(http.StatusNotFound)
		case "gone":
			w.WriteHeader(http.StatusGone)
		case "forbidden":
			w.WriteHeader(http.StatusForbidden)
		case "error":
			w.WriteHeader(http.StatusInternalServerError)
		case "busy":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case "hangup":
			hangUp(t, w)
		case "reset":
			resetConn(t, w)
		case "truncated":
			conn := hijack(t, w)
			_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(good), good[:10])
			conn.Close()
		case "big":
			_, _ = w.Write(sidecarJSON(2000))
		case "bigchunked":
			writeChunked(w, sidecarJSON(2000))
		case "mismatch":
			_, _ = w.Write(sidecarJSON(301))
		case "drip":
			drip(w, r)
		case "slow":
			select {
			case slow <- struct{}{}:
			default:
			}
			drip(w, r)
		case "tofile":
			http.Redirect(w, r, fileURL(localFile), http.StatusFound)
		case "loop":
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound) // keeps the token
		default:
			t.Errorf("unexpected mode %q", mode)
		}
	})
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	pkgURL := func(mode string) string {
		return fmt.Sprintf("http://%s:%s@%s/t/%s/chan/noarch/%s.conda?token=%s#frag",
			userSecret, passSecret, hostPort, pathSecret, mode, querySecret)
	}
	filePkgURL := "file://" + userSecret + ":" + passSecret + "@localhost/tmp/t/" + pathSecret + "/chan/noarch/x.conda?token=" + querySecret
	rec := record("x.conda", good)

	logger, logs := testlog.New()
	opts := fetch.Options{Logger: logger, MaxSidecarSize: 1000}
	c := newClient(t, opts)
	opts.Timeout = 150 * time.Millisecond
	short := newClient(t, opts)
	opts.Timeout, opts.AllowFile = 0, true
	withFile := newClient(t, opts)

	checkErr := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		requireNoSecrets(t, err.Error(), allSecrets...)
		requireNoSecrets(t, fmt.Sprintf("%+v", err), allSecrets...)
		var fe *fetch.Error
		for e := err; e != nil; e = errors.Unwrap(e) {
			requireNoSecrets(t, e.Error(), allSecrets...)
			if x, ok := e.(*fetch.Error); ok && fe == nil {
				fe = x
			}
		}
		if fe != nil {
			requireNoSecrets(t, fe.URL, allSecrets...)
		}
	}

	t.Run("fetch", func(t *testing.T) {
		tests := []struct {
			mode   string
			client *fetch.Client
			rec    fetch.Record
			want   fetch.Kind // "": the caller's cancellation
		}{
			{"missing", c, rec, fetch.KindNotFound},
			{"gone", c, rec, fetch.KindNotFound},
			{"forbidden", c, rec, fetch.KindHTTPStatus},
			{"error", c, rec, fetch.KindHTTPStatus},
			{"busy", c, rec, fetch.KindHTTPStatus},
			{"hangup", c, rec, fetch.KindNetwork},
			{"reset", c, rec, fetch.KindNetwork},
			{"truncated", c, rec, fetch.KindNetwork},
			{"big", c, rec, fetch.KindTooLarge},
			{"bigchunked", c, rec, fetch.KindTooLarge},
			{"mismatch", c, rec, fetch.KindHashMismatch},
			{"drip", short, rec, fetch.KindNetwork},
			{"slow", c, rec, ""},
			{"tofile", withFile, rec, fetch.KindNetwork},
			{"loop", c, rec, fetch.KindNetwork},
			{"ok", c, fetch.Record{Filename: "x.conda"}, fetch.KindNotAdvertised},
			{"ok", c, fetch.Record{Filename: "x.conda", AttestationsSHA256: "../" + d64[3:]}, fetch.KindInvalidDigest},
		}
		for _, tt := range tests {
			name := tt.mode + "/canceled"
			if tt.want != "" {
				name = tt.mode + "/" + string(tt.want)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.mode == "slow" {
					go func() { <-slow; cancel() }()
				}
				err := within(t, func() error {
					_, err := tt.client.FetchSidecar(ctx, pkgURL(tt.mode), tt.rec)
					return err
				})
				if tt.want == "" {
					requireCanceled(t, err)
				} else {
					requireKind(t, err, tt.want)
				}
				checkErr(t, err)
			})
		}
		t.Run("ok", func(t *testing.T) {
			t.Parallel()
			sc, err := c.FetchSidecar(context.Background(), pkgURL("ok"), rec)
			require.NoError(t, err)
			assert.Equal(t, good, sc.Data)
			requireNoSecrets(t, sc.URL, allSecrets...)
			assert.Equal(t, srv.URL+"/t/REDACTED/chan/noarch/ok.conda.sigs."+digestOf(good)+"?REDACTED", sc.URL)
		})
		t.Run("repodata", func(t *testing.T) {
			t.Parallel()
			loc, err := conda.SplitPackageURL(pkgURL("missing"))
			require.NoError(t, err)
			requireNoSecrets(t, loc.Channel+loc.Subdir+loc.Filename, allSecrets...)
			assert.Equal(t, srv.URL+"/chan", loc.Channel)
			_, err = c.OpenRepodata(context.Background(), loc.RepodataURL)
			requireKind(t, err, fetch.KindNotFound)
			checkErr(t, err)
		})
	})
	assert.Zero(t, badCredentials.Load(), "the credentials did not reach the server")
	out := logs.String()
	requireNoSecrets(t, out, allSecrets...)
	assert.Contains(t, out, "REDACTED")
	assert.Contains(t, out, "condasigs: retrying request")

	t.Run("no request", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			url    string
			client *fetch.Client
			want   fetch.Kind
		}{
			{strings.Replace(pkgURL("x"), "http:", "ftp:", 1), c, fetch.KindInvalidURL},
			{strings.Replace(pkgURL("x"), hostPort, "[::1", 1), c, fetch.KindInvalidURL},
			{strings.Replace(pkgURL("x"), hostPort, "", 1), c, fetch.KindInvalidURL},
			{strings.Replace(pkgURL("x"), "x.conda", "", 1), c, fetch.KindInvalidURL},
			{filePkgURL, c, fetch.KindInvalidURL},
			{filePkgURL, withFile, fetch.KindNotFound},
			{strings.Replace(filePkgURL, "localhost", "remote", 1), withFile, fetch.KindInvalidURL},
		} {
			_, err := tt.client.FetchSidecar(context.Background(), tt.url, rec)
			requireKind(t, err, tt.want)
			checkErr(t, err)
		}
		_, err := conda.SplitPackageURL(strings.Replace(pkgURL("x"), "x.conda", "", 1))
		require.Error(t, err)
		checkErr(t, err)
		_, err = conda.NormalizeChannel("https://" + userSecret + ":" + passSecret + "@h:port/t/" + pathSecret + "?token=" + querySecret)
		checkErr(t, err)
		norm, err := conda.NormalizeChannel(pkgURL("x"))
		require.NoError(t, err)
		requireNoSecrets(t, norm, allSecrets...)
		requireNoSecrets(t, conda.Redact(pkgURL("x")), allSecrets...)
		requireNoSecrets(t, conda.Redact(filePkgURL), allSecrets...)
	})
	requireNoSecrets(t, logs.String(), allSecrets...)
}
