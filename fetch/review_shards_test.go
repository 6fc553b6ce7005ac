package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tinylib/msgp/msgp"

	"github.com/condasigs/condasigs/internal/cep16"
)

// reviewHostileIndex is the msgpack of a shard index of n distinct short
// names that all give the same hash: it compresses about 100 to 1.
func reviewHostileIndex(n int) []byte {
	b := msgp.AppendMapHeader(nil, 3)
	b = msgp.AppendString(b, "version")
	b = msgp.AppendUint64(b, 1)
	b = msgp.AppendString(b, "info")
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "shards_base_url")
	b = msgp.AppendString(b, "./shards/")
	b = msgp.AppendString(b, "shards")
	b = msgp.AppendMapHeader(b, uint32(n))
	var sum [32]byte
	for i := range n {
		b = msgp.AppendString(b, strconv.FormatInt(int64(i), 36))
		b = msgp.AppendBytes(b, sum[:])
	}
	return b
}

// Review finding: SECURITY.md promises that a scan of repodata holds
// under 512 KiB and that Resolve runs at most 64 scans at once. A record
// source of CEP 16 shards holds the whole decoded index, a copy of it as
// a string, and a Go map of every name it lists: a 610 kB index of 1.6
// million names (under maxShardIndexSize decoded) costs about 300 MiB of
// heap per subdir, and the 8 subdirs that Resolve reads at once by
// default on 2 CPUs (a multi-platform pixi.lock reaches that) take about
// 2.5 GiB, for 5 MB sent by a hostile channel. 64 at once (the cap)
// would take about 20 GiB.
func TestReviewShardIndexMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 8 hostile indexes at once")
	}
	raw := reviewHostileIndex(1_600_000)
	if len(raw) > maxShardIndexSize {
		t.Fatalf("index of %d bytes, over the cap", len(raw))
	}
	z := cep16.Compress(raw)
	t.Logf("hostile index: %d bytes decoded, %d served", len(raw), len(z))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/"+shardIndexFile) {
			_, _ = w.Write(z)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c := newShardClient(t, Options{})
	const subdirs = 8
	var urls []string
	for i := range subdirs {
		urls = append(urls, fmt.Sprintf("%s/chan/sub%d/zzzzzz-1-0.conda", srv.URL, i))
	}

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var most atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > most.Load() {
				most.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	found := Resolve(context.Background(), c, urls, subdirs)
	close(stop)
	<-sampled
	for _, f := range found {
		requireKindOf(t, f.Err, KindNotFound) // the index does not list the name
	}
	grown := most.Load() - min(most.Load(), base.HeapInuse)
	t.Logf("%d hostile subdirs at once: the heap grew by %d MiB", subdirs, grown>>20)
	assert.Less(t, grown, uint64(512<<20), "a hostile shard index must not cost hundreds of MiB a subdir")
}

// Review finding: a channel that redirects its documents to another host
// (anaconda.org sends private downloads to a CDN; a mirror to its
// storage) gets the channel's credentials sent to that host: Go's
// http.Client sets Referer to the previous URL on every redirect, query
// string and /t/<token>/ path included (it strips only user:pass@).
// FindRecords now asks for three documents, each a chance to leak. The
// redirect target must see no token, in its URL (which the redirect
// chose) or in any header.
func TestReviewRedirectSendsNoTokenInReferer(t *testing.T) {
	var mu sync.Mutex
	var leaks []string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, "SECRET") {
					leaks = append(leaks, r.URL.Path+": "+k+": "+v)
				}
			}
		}
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer cdn.Close()
	other := strings.Replace(cdn.URL, "127.0.0.1", "localhost", 1) // another host
	channel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other+"/storage/"+path.Base(r.URL.Path), http.StatusFound)
	}))
	defer channel.Close()
	c := newShardClient(t, Options{})
	for _, u := range []string{
		channel.URL + "/t/PATH-SECRET/chan/linux-64/repodata.json",
		channel.URL + "/chan/linux-64/repodata.json?token=QUERY-SECRET",
	} {
		_, err := c.FindRecords(context.Background(), u, []string{"a-1-0.conda"})
		requireKindOf(t, err, KindNotFound)
	}
	assert.Empty(t, leaks, "the redirect target got the channel's token")
}

// Review finding (low): on a file:// channel, sameOrigin compares only
// the scheme and the empty host, so the channel's own index can send the
// client to read shards anywhere on the file system (an absolute
// file:///... URL, or ../ out of the channel). AllowFile lets the caller
// read the local channels it names, not what their documents name: the
// shards must stay under the channel's directory.
func TestReviewFileChannelShardsStayInChannel(t *testing.T) {
	channel := t.TempDir()
	outside := t.TempDir()
	for i, sb := range []string{
		"file://" + filepath.ToSlash(outside) + "/",
		strings.Repeat("../", 32) + strings.TrimPrefix(filepath.ToSlash(outside), "/") + "/",
	} {
		sub, err := cep16.Build(cep16.IndexInfo{ShardsBaseURL: sb, Subdir: "linux-64"}, testRecords(), cep16.ShardOptions{})
		require.NoError(t, err)
		subdir := fmt.Sprintf("sub%d", i)
		require.NoError(t, os.MkdirAll(filepath.Join(channel, subdir), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(channel, subdir, shardIndexFile), sub.Index, 0o600))
		for f, z := range sub.Shards {
			require.NoError(t, os.WriteFile(filepath.Join(outside, f), z, 0o600))
		}
		c := newShardClient(t, Options{AllowFile: true})
		u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(channel) + "/" + subdir + "/repodata.json"}).String()
		found, _ := c.findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda"})
		assert.Error(t, found["a-1.0-h0_0.conda"].Err, "shards_base_url %s: a shard outside the channel's directory was read", sb)
	}
}
