package fetch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tinylib/msgp/msgp"

	"github.com/condasigs/condasigs/internal/cep16"
)

// hostileShardIndex is the msgpack of a shard index of n distinct short
// names that all give the same hash: it compresses about 100 to 1.
func hostileShardIndex(n int) []byte {
	names := make([]string, n)
	for i := range n {
		names[i] = strconv.FormatInt(int64(i), 36)
	}
	var zero [32]byte
	return shardIndexOf(names, func(string) []byte { return zero[:] })
}

// shardIndexOf is the msgpack of a shard index that gives each name the
// hash sum(name), shards under ./shards/.
func shardIndexOf(names []string, sum func(name string) []byte) []byte {
	b := msgp.AppendMapHeader(nil, 3)
	b = msgp.AppendString(b, "version")
	b = msgp.AppendUint64(b, 1)
	b = msgp.AppendString(b, "info")
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "shards_base_url")
	b = msgp.AppendString(b, "./shards/")
	b = msgp.AppendString(b, "shards")
	b = msgp.AppendMapHeader(b, uint32(len(names)))
	for _, name := range names {
		b = msgp.AppendString(b, name)
		b = msgp.AppendBytes(b, sum(name))
	}
	return b
}

// TestShardIndexMemoryBounded: a shard index is decoded keeping only the
// names asked for (no map, nor copy, of every name), under a cap of
// maxShardIndexSize, and a Client reads at most shardIndexesPerClient
// indexes at once. Before, the largest hostile index under the cap (64
// MiB then: 1.6 million names, 613 kB served) cost about 300 MiB of heap
// a subdir, and the 8 subdirs Resolve reads at once on 2 CPUs about 2.4
// GiB, for 5 MB sent; 64 at once (its cap) would have taken 20 GiB.
func TestShardIndexMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 8 hostile indexes at once")
	}
	// The most names the cap lets through: each entry takes at most 39
	// bytes (a name of up to 4 characters, a bin8 of 32).
	raw := hostileShardIndex(maxShardIndexSize / 39)
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
	assert.Less(t, grown, uint64(256<<20), "a hostile shard index must not cost hundreds of MiB a subdir")
}

// TestFileChannelShardsStayInChannel: on a file:// channel, whose host is
// empty, sameOrigin also keeps the shards under the channel's directory:
// AllowFile lets the caller read the local channels it names, not what
// their documents name (an absolute file:///... URL, or ../ out of the
// channel, escaped or not).
func TestFileChannelShardsStayInChannel(t *testing.T) {
	root := t.TempDir()
	channel := filepath.Join(root, "chan")
	outside := filepath.Join(root, "chan-other") // shares the channel's prefix
	require.NoError(t, os.MkdirAll(outside, 0o700))
	abs := filepath.ToSlash(outside)
	for i, tc := range []struct {
		shardsBase string
		inside     bool
	}{
		{"file://" + abs + "/", false},
		{strings.Repeat("../", 32) + strings.TrimPrefix(abs, "/") + "/", false},
		{"../../chan-other/", false},
		{"%2e%2e/%2e%2e/chan-other/", false},
		{"./%2e%2e/%2e%2e/chan-other/", false},
		{"file://" + filepath.ToSlash(channel) + "/../chan-other/", false},
		{"./shards/", true},
		{"../", true},
		{"../shared-shards/", true},
		{"file://" + filepath.ToSlash(channel) + "/shared/", true},
	} {
		sub, err := cep16.Build(cep16.IndexInfo{ShardsBaseURL: tc.shardsBase, Subdir: "linux-64"}, testRecords(), cep16.ShardOptions{})
		require.NoError(t, err)
		subdir := fmt.Sprintf("sub%d", i)
		require.NoError(t, os.MkdirAll(filepath.Join(channel, subdir), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(channel, subdir, shardIndexFile), sub.Index, 0o600))
		u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(channel) + "/" + subdir + "/repodata.json"}).String()
		idxURL, err := shardIndexURL(u)
		require.NoError(t, err)
		base, err := url.Parse(tc.shardsBase)
		require.NoError(t, err)
		dir := filepath.FromSlash(idxURL.ResolveReference(base).Path) // as the OS would open it
		require.NoError(t, os.MkdirAll(dir, 0o700))
		for f, z := range sub.Shards {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), z, 0o600))
		}
		c := newShardClient(t, Options{AllowFile: true})
		found, err := c.findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda"})
		if tc.inside {
			require.NoError(t, err, tc.shardsBase)
			require.NoError(t, found["a-1.0-h0_0.conda"].Err, tc.shardsBase)
			continue
		}
		requireKindOf(t, err, KindMalformed)
		requireKindOf(t, found["a-1.0-h0_0.conda"].Err, KindMalformed)
		assert.Contains(t, err.Error(), "leads out of the channel's directory", tc.shardsBase)
	}
}

func TestUnderChannel(t *testing.T) {
	const idx = "/srv/chan/linux-64/" + shardIndexFile
	for p, want := range map[string]bool{
		"/srv/chan":                  true,
		"/srv/chan/":                 true,
		"/srv/chan/linux-64/shards/": true,
		"/srv/chan/shards/":          true,
		"/srv/chan-evil/":            false,
		"/srv/":                      false,
		"/srv/chan/../x/":            false,
		"/srv/chan/./shards/":        false,
		`/srv/chan/..\..\x/`:         false,
		"/etc/":                      false,
	} {
		assert.Equal(t, want, underChannel(idx, p), p)
	}
	assert.True(t, underChannel("/linux-64/"+shardIndexFile, "/anything/"), "a channel at the root holds everything")
}

// TestFindInShardsOneDecodeAHash: names that give one hash share one
// fetch and one decode of its shard, their files together.
func TestFindInShardsOneDecodeAHash(t *testing.T) {
	s := newShardServer(t)
	shard, err := cep16.AppendShard(nil, testRecords(), nil, cep16.ShardOptions{})
	require.NoError(t, err)
	z := cep16.Compress(shard)
	const dir = "/dedupe/linux-64"
	u := serveIndex(t, s, dir, map[string][]byte{"a": z, "b": z, "c": z, "d": z})
	c := newShardClient(t, Options{})
	found, err := c.findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda", "a-0.9-h0_0.tar.bz2", "b-2-0.conda", "c-1-0.conda"})
	require.NoError(t, err)
	require.NoError(t, found["a-1.0-h0_0.conda"].Err)
	require.NoError(t, found["a-0.9-h0_0.tar.bz2"].Err)
	require.NoError(t, found["b-2-0.conda"].Err)
	requireKindOf(t, found["c-1-0.conda"].Err, KindNotFound)
	assert.Equal(t, 1, s.hitsOf(shardPath(dir+"/shards", sha256.Sum256(z))))
}

// TestShardDecodeBudget: the shards of one call decode within
// shardBudgetPerCall in all; a shard beyond it fails KindTooLarge, and
// what a decode reserves and does not use is given back.
func TestShardDecodeBudget(t *testing.T) {
	s := newShardServer(t)
	z := goodShard(t, "a")
	decoded := len(mustDecompress(t, z))
	const dir = "/budget/linux-64"
	serveIndex(t, s, dir, map[string][]byte{"a": z})
	base, err := url.Parse(s.URL + dir + "/shards/")
	require.NoError(t, err)
	c := newShardClient(t, Options{})
	budget := &decodeBudget{left: decoded + decoded/2}
	files := []string{"a-1.0-h0_0.conda"}
	found := c.findInShard(context.Background(), base, nil, sha256.Sum256(z), files, "linux-64", budget)
	require.NoError(t, found[files[0]].Err)
	assert.Equal(t, decoded/2, budget.left, "what is not used is given back")
	found = c.findInShard(context.Background(), base, nil, sha256.Sum256(z), files, "linux-64", budget)
	requireKindOf(t, found[files[0]].Err, KindTooLarge)
	assert.Contains(t, found[files[0]].Err.Error(), fmt.Sprintf("more than %d bytes in all", shardBudgetPerCall))
	assert.Equal(t, decoded/2, budget.left)
	budget.left = 0
	found = c.findInShard(context.Background(), base, nil, sha256.Sum256(z), files, "linux-64", budget)
	requireKindOf(t, found[files[0]].Err, KindTooLarge)
}

// concurrencyServer serves body at every path ending in suffix, slowly,
// and records the most requests of them at once.
func concurrencyServer(t *testing.T, suffix string, body []byte) (*httptest.Server, *atomic.Int64) {
	var now, most atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, suffix) {
			http.NotFound(w, r)
			return
		}
		n := now.Add(1)
		defer now.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &most
}

// TestClientBoundsIndexesAndZstStreams: however many subdirs are read at
// once, a Client reads at most shardIndexesPerClient shard indexes and
// zstStreamsPerClient repodata.json.zst streams at once.
func TestClientBoundsIndexesAndZstStreams(t *testing.T) {
	const subdirs = 12
	for _, tc := range []struct {
		source, suffix string
		body           []byte
		bound          int64
	}{
		{sourceShards, "/" + shardIndexFile, cep16.Compress(cep16.AppendIndex(nil, testInfo, nil)), shardIndexesPerClient},
		{sourceZst, "/repodata.json.zst", cep16.Compress([]byte(`{"packages":{}}`)), zstStreamsPerClient},
	} {
		t.Run(tc.source, func(t *testing.T) {
			srv, most := concurrencyServer(t, tc.suffix, tc.body)
			c := newShardClient(t, Options{RecordSources: []string{tc.source}})
			var urls []string
			for i := range subdirs {
				urls = append(urls, fmt.Sprintf("%s/chan/sub%d/a-1-0.conda", srv.URL, i))
			}
			for _, f := range Resolve(context.Background(), c, urls, subdirs) {
				requireKindOf(t, f.Err, KindNotFound) // served, and not listed
				assert.Equal(t, tc.source, f.Source)
			}
			t.Logf("at most %d at once", most.Load())
			assert.LessOrEqual(t, most.Load(), tc.bound)
			assert.Positive(t, most.Load())
		})
	}
}
