package fetch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/cep16"
)

// shardServer serves files by path, with an ETag (answering a matching
// If-None-Match with 304), and counts the requests of each path.
type shardServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	conds map[string][]string // the If-None-Match of each request, by path
}

func newShardServer(t *testing.T) *shardServer {
	s := &shardServer{files: map[string][]byte{}, hits: map[string]int{}, conds: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		p := r.URL.Path
		s.hits[p]++
		s.conds[p] = append(s.conds[p], r.Header.Get("If-None-Match"))
		data, ok := s.files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(data)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shardServer) put(p string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[p] = data
}

func (s *shardServer) remove(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.files, p)
}

func (s *shardServer) hitsOf(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

// hitsUnder counts the requests of paths under prefix.
func (s *shardServer) hitsUnder(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, h := range s.hits {
		if strings.HasPrefix(p, prefix) {
			n += h
		}
	}
	return n
}

// publish serves the sharded repodata of recs in the subdir at dir (a
// path), the shards under shardsDir (a path), and returns each name's
// shard hash.
func (s *shardServer) publish(t *testing.T, dir, shardsDir string, info cep16.IndexInfo, recs []cep16.Record, opts cep16.ShardOptions) map[string][32]byte {
	t.Helper()
	sub, err := cep16.Build(info, recs, opts)
	require.NoError(t, err)
	s.put(dir+"/"+shardIndexFile, sub.Index)
	for f, z := range sub.Shards {
		s.put(shardsDir+"/"+f, z)
	}
	idx, err := cep16.DecodeIndex(mustDecompress(t, sub.Index), func([]byte) bool { return true }, nil)
	require.NoError(t, err)
	return idx.Shards
}

func mustDecompress(t testing.TB, z []byte) []byte {
	d, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer d.Close()
	out, err := d.DecodeAll(z, nil)
	require.NoError(t, err)
	return out
}

func shardPath(shardsDir string, sum [32]byte) string { return shardsDir + "/" + cep16.ShardFile(sum) }

func newShardClient(t *testing.T, opts Options) *Client {
	opts.RetryMax = -1
	opts.Timeout = 10 * time.Second
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(hc.CloseIdleConnections)
	opts.HTTPClient = hc
	return New(opts)
}

var (
	sumA = strings.Repeat("a1", 32)
	sumB = strings.Repeat("b2", 32)
	md5A = strings.Repeat("c3", 16)
	attA = strings.Repeat("d4", 32)
)

func testRecords() []cep16.Record {
	return []cep16.Record{
		{Filename: "a-1.0-h0_0.conda", Name: "a", Version: "1.0", Build: "h0_0", SHA256: sumA, MD5: md5A, Size: 1234, AttestationsSHA256: attA},
		{Filename: "a-0.9-h0_0.tar.bz2", Name: "a", Version: "0.9", Build: "h0_0", BuildNumber: 3, Subdir: "noarch", SHA256: sumB},
		{Filename: "b-2-0.conda", Name: "b", Version: "2", Build: "0", AttestationsKey: true},
	}
}

var testInfo = cep16.IndexInfo{BaseURL: "./", ShardsBaseURL: "./shards/", Subdir: "linux-64"}

func requireKindOf(t *testing.T, err error, want Kind) {
	t.Helper()
	require.Error(t, err)
	require.Truef(t, errors.Is(err, want), "error %q (kind %q) is not %q", err, KindOf(err), want)
	var fe *Error
	require.ErrorAs(t, err, &fe)
}

func TestFindInShards(t *testing.T) {
	for _, asBin := range []bool{false, true} {
		t.Run(fmt.Sprintf("attestations as bin %v", asBin), func(t *testing.T) {
			s := newShardServer(t)
			sums := s.publish(t, "/chan/linux-64", "/chan/linux-64/shards", testInfo, testRecords(), cep16.ShardOptions{AttestationsAsBin: asBin})
			c := newShardClient(t, Options{})
			files := []string{"a-1.0-h0_0.conda", "a-0.9-h0_0.tar.bz2", "b-2-0.conda", "c-1-0.conda", "a-3-0.conda", "not-a-package"}
			found, err := c.findInShards(context.Background(), s.URL+"/chan/linux-64/repodata.json", files)
			require.NoError(t, err)
			require.Len(t, found, len(files))

			a1 := found["a-1.0-h0_0.conda"]
			require.NoError(t, a1.Err)
			assert.Equal(t, Record{Filename: "a-1.0-h0_0.conda", Name: "a", Version: "1.0", Build: "h0_0", Subdir: "linux-64",
				Size: 1234, SHA256: sumA, MD5: md5A, AttestationsSHA256: attA}, a1.Record)
			a09 := found["a-0.9-h0_0.tar.bz2"]
			require.NoError(t, a09.Err)
			assert.Equal(t, Record{Filename: "a-0.9-h0_0.tar.bz2", Name: "a", Version: "0.9", Build: "h0_0", BuildNumber: 3,
				Subdir: "noarch", SHA256: sumB}, a09.Record)
			assert.False(t, a09.Record.HasAttestations())
			b := found["b-2-0.conda"]
			require.NoError(t, b.Err)
			assert.True(t, b.Record.advertisedEmpty, "an empty attestations_sha256 is an invalid advertisement")
			assert.True(t, b.Record.HasAttestations())
			assert.Empty(t, b.Record.AttestationsSHA256)

			requireKindOf(t, found["c-1-0.conda"].Err, KindNotFound)
			assert.Contains(t, found["c-1-0.conda"].Err.Error(), `does not list package "c"`)
			requireKindOf(t, found["a-3-0.conda"].Err, KindNotFound)
			assert.Contains(t, found["a-3-0.conda"].Err.Error(), `the shard does not list "a-3-0.conda"`)
			requireKindOf(t, found["not-a-package"].Err, KindNotFound)

			// One request a shard, whatever the files it serves.
			assert.Equal(t, 1, s.hitsOf(shardPath("/chan/linux-64/shards", sums["a"])))
			assert.Equal(t, 1, s.hitsOf(shardPath("/chan/linux-64/shards", sums["b"])))
		})
	}
}

func TestFindInShardsFile(t *testing.T) {
	dir := t.TempDir()
	sub, err := cep16.Build(testInfo, testRecords(), cep16.ShardOptions{})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "linux-64", "shards"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "linux-64", shardIndexFile), sub.Index, 0o600))
	for f, z := range sub.Shards {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "linux-64", "shards", f), z, 0o600))
	}
	c := newShardClient(t, Options{AllowFile: true})
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir) + "/linux-64/repodata.json"}).String()
	found, err := c.findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda"})
	require.NoError(t, err)
	require.NoError(t, found["a-1.0-h0_0.conda"].Err)
	assert.Equal(t, attA, found["a-1.0-h0_0.conda"].Record.AttestationsSHA256)

	// No index: errNoShards, a not-found failure.
	u = (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir) + "/noarch/repodata.json"}).String()
	found, err = c.findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda"})
	require.ErrorIs(t, err, errNoShards)
	requireKindOf(t, err, KindNotFound)
	require.ErrorIs(t, found["a-1.0-h0_0.conda"].Err, errNoShards)
}

func TestFindInShardsNoIndex(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cached %v", cached), func(t *testing.T) {
			s := newShardServer(t)
			opts := Options{}
			if cached {
				opts.RepodataDir = privateRepodataDir(t)
			}
			c := newShardClient(t, opts)
			found, err := c.findInShards(context.Background(), s.URL+"/t/SECRET/chan/linux-64/repodata.json", []string{"a-1-0.conda"})
			require.ErrorIs(t, err, errNoShards)
			requireKindOf(t, err, KindNotFound)
			require.ErrorIs(t, found["a-1-0.conda"].Err, errNoShards)
			assert.NotContains(t, err.Error(), "SECRET")
			assert.Contains(t, err.Error(), "/t/REDACTED/chan/linux-64/"+shardIndexFile)
		})
	}
	// Another failure of the index is not errNoShards: the caller stops.
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer s.Close()
	_, err := newShardClient(t, Options{}).findInShards(context.Background(), s.URL+"/chan/linux-64/repodata.json", []string{"a-1-0.conda"})
	requireKindOf(t, err, KindHTTPStatus)
	require.NotErrorIs(t, err, errNoShards)
}

// privateRepodataDir is a RepodataDir that passes the cache directory checks.
func privateRepodataDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "repodata")
	require.NoError(t, cachedir.Prepare(dir))
	return dir
}

func TestFindInShardsBaseURLs(t *testing.T) {
	s := newShardServer(t)
	host := strings.TrimPrefix(s.URL, "http://")
	_, port, _ := strings.Cut(host, ":")
	cases := []struct {
		name, base, shardsBase, shardsDir string
		refused                           bool
	}{
		{"relative", "./", "./shards/", "/chan/linux-64/shards", false},
		{"relative without slash", "", "shards", "/chan/linux-64/shards", false},
		{"relative up", "../", "../../mirror/linux-64/", "/mirror/linux-64", false},
		{"absolute path", "", "/elsewhere/shards/", "/elsewhere/shards", false},
		{"absolute same host", s.URL + "/chan/linux-64/", s.URL + "/cdn/shards/", "/cdn/shards", false},
		{"other host", "", "http://localhost:" + port + "/cdn/shards/", "/cdn/shards", true},
		{"other host, scheme-relative", "", "//localhost:" + port + "/cdn/shards/", "/cdn/shards", true},
		{"other port", "", "http://127.0.0.1:1/cdn/shards/", "/cdn/shards", true},
		{"other scheme", "", "https://" + host + "/cdn/shards/", "/cdn/shards", true},
		{"base_url on another host", "http://localhost:" + port + "/chan/linux-64/", "./shards/", "/chan/linux-64/shards", true},
		{"base_url on another scheme", "https://" + host + "/chan/linux-64/", "./shards/", "/chan/linux-64/shards", true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := fmt.Sprintf("/c%d/chan/linux-64", i)
			shardsDir := tc.shardsDir
			if strings.HasPrefix(shardsDir, "/chan/") {
				shardsDir = fmt.Sprintf("/c%d", i) + shardsDir
			} else if strings.HasPrefix(shardsDir, "/mirror/") {
				shardsDir = fmt.Sprintf("/c%d", i) + shardsDir
			}
			info := cep16.IndexInfo{BaseURL: tc.base, ShardsBaseURL: tc.shardsBase, Subdir: "linux-64"}
			s.publish(t, dir, shardsDir, info, testRecords(), cep16.ShardOptions{})
			c := newShardClient(t, Options{})
			before := s.hitsUnder(shardsDir)
			found, err := c.findInShards(context.Background(), s.URL+dir+"/repodata.json", []string{"a-1.0-h0_0.conda"})
			if tc.refused {
				// The channel's document is wrong, not the caller's URL.
				requireKindOf(t, err, KindMalformed)
				requireKindOf(t, found["a-1.0-h0_0.conda"].Err, KindMalformed)
				assert.Contains(t, err.Error(), "fetch.Options.RecordSources", "the message says what to do")
				assert.Equal(t, before, s.hitsUnder(shardsDir), "no shard is requested")
				return
			}
			require.NoError(t, err)
			require.NoError(t, found["a-1.0-h0_0.conda"].Err)
			assert.Equal(t, before+1, s.hitsUnder(shardsDir))
		})
	}
}

func TestFindInShardsToken(t *testing.T) {
	s := newShardServer(t)
	const dir = "/t/SECRET-TOKEN/chan/linux-64"
	// Relative: the shards keep the token's path.
	sums := s.publish(t, dir, dir+"/shards", testInfo, testRecords(), cep16.ShardOptions{})
	c := newShardClient(t, Options{})
	found, err := c.findInShards(context.Background(), s.URL+dir+"/repodata.json", []string{"a-1.0-h0_0.conda", "b-2-0.conda"})
	require.NoError(t, err)
	require.NoError(t, found["a-1.0-h0_0.conda"].Err)
	assert.Equal(t, 1, s.hitsOf(shardPath(dir+"/shards", sums["a"])))

	// A missing shard: the error names the URL without the token.
	s.remove(shardPath(dir+"/shards", sums["b"]))
	found, err = c.findInShards(context.Background(), s.URL+dir+"/repodata.json", []string{"a-1.0-h0_0.conda", "b-2-0.conda"})
	require.NoError(t, err)
	require.NoError(t, found["a-1.0-h0_0.conda"].Err)
	bErr := found["b-2-0.conda"].Err
	requireKindOf(t, bErr, KindNotFound)
	assert.NotContains(t, bErr.Error(), "SECRET")
	assert.Contains(t, bErr.Error(), "/t/REDACTED/chan/linux-64/shards/")

	// Absolute, on the same host without the token: fine.
	info := testInfo
	info.ShardsBaseURL = s.URL + "/public/shards/"
	sums = s.publish(t, dir, "/public/shards", info, testRecords(), cep16.ShardOptions{})
	found, err = c.findInShards(context.Background(), s.URL+dir+"/repodata.json", []string{"a-1.0-h0_0.conda"})
	require.NoError(t, err)
	require.NoError(t, found["a-1.0-h0_0.conda"].Err)
	assert.Equal(t, 1, s.hitsOf(shardPath("/public/shards", sums["a"])))
}

// cachedShard is the path of the kept copy of a shard of the index at u.
func cachedShard(t *testing.T, repodataDir, indexURL string, sum [32]byte) string {
	u, err := url.Parse(indexURL)
	require.NoError(t, err)
	key := hex.EncodeToString(sum[:])
	return filepath.Join(repodataDir, shardCacheDir, repodataName(u), key[:2], key)
}

func TestFindInShardsCache(t *testing.T) {
	s := newShardServer(t)
	const dir = "/chan/linux-64"
	const shards = dir + "/shards"
	sums := s.publish(t, dir, shards, testInfo, testRecords(), cep16.ShardOptions{})
	rd := privateRepodataDir(t)
	c := newShardClient(t, Options{RepodataDir: rd})
	repodata := s.URL + dir + "/repodata.json"
	indexURL := s.URL + dir + "/" + shardIndexFile
	files := []string{"a-1.0-h0_0.conda", "b-2-0.conda"}
	find := func() map[string]Found {
		t.Helper()
		found, err := c.findInShards(context.Background(), repodata, files)
		require.NoError(t, err)
		for _, f := range files {
			require.NoError(t, found[f].Err, f)
		}
		return found
	}

	find()
	assert.Equal(t, 1, s.hitsOf(dir+"/"+shardIndexFile))
	assert.Equal(t, 2, s.hitsUnder(shards))
	keptA := cachedShard(t, rd, indexURL, sums["a"])
	require.FileExists(t, keptA)

	// Again: the index is revalidated (304), the shards come from the
	// cache without a request.
	find()
	idxConds := s.conds[dir+"/"+shardIndexFile]
	require.Len(t, idxConds, 2)
	assert.Empty(t, idxConds[0])
	assert.NotEmpty(t, idxConds[1], "the second request is conditional")
	assert.Equal(t, 2, s.hitsUnder(shards), "no shard request")

	// A damaged copy is hashed, refused and fetched again.
	require.NoError(t, os.WriteFile(keptA, []byte("garbage"), 0o600))
	found := find()
	assert.Equal(t, attA, found["a-1.0-h0_0.conda"].Record.AttestationsSHA256)
	assert.Equal(t, 3, s.hitsUnder(shards))
	assert.Equal(t, 2, s.hitsOf(shardPath(shards, sums["a"])), "a's shard fetched once more")
	got, err := os.ReadFile(keptA)
	require.NoError(t, err)
	assert.Equal(t, sums["a"], sha256.Sum256(got), "the kept copy is replaced")

	// Another channel shares the directory.
	const dir2 = "/other/linux-64"
	sums2 := s.publish(t, dir2, dir2+"/shards", testInfo, testRecords()[:1], cep16.ShardOptions{})
	_, err = c.findInShards(context.Background(), s.URL+dir2+"/repodata.json", []string{"a-1.0-h0_0.conda"})
	require.NoError(t, err)
	kept2 := cachedShard(t, rd, s.URL+dir2+"/"+shardIndexFile, sums2["a"])
	require.FileExists(t, kept2)

	// The channel changes a's shard: once the new index is read, the old
	// shard is collected; b's, still named, stays, and so does the other
	// channel's.
	recs := testRecords()
	recs[0].Version, recs[0].Filename = "1.1", "a-1.1-h0_0.conda"
	newSums := s.publish(t, dir, shards, testInfo, recs, cep16.ShardOptions{})
	require.NotEqual(t, sums["a"], newSums["a"])
	require.Equal(t, sums["b"], newSums["b"])
	found, err = c.findInShards(context.Background(), repodata, []string{"a-1.1-h0_0.conda"})
	require.NoError(t, err)
	require.NoError(t, found["a-1.1-h0_0.conda"].Err)
	assert.NoFileExists(t, keptA, "the shard the index no longer names is removed")
	assert.FileExists(t, cachedShard(t, rd, indexURL, newSums["a"]))
	assert.FileExists(t, cachedShard(t, rd, indexURL, sums["b"]))
	assert.FileExists(t, kept2, "another channel's shards are its own")
}

func TestFindInShardsCacheNotPrivate(t *testing.T) {
	for _, open := range []string{"shards", "repodata"} {
		t.Run(open, func(t *testing.T) {
			s := newShardServer(t)
			s.publish(t, "/chan/linux-64", "/chan/linux-64/shards", testInfo, testRecords(), cep16.ShardOptions{})
			rd := privateRepodataDir(t)
			if open == "shards" {
				require.NoError(t, os.MkdirAll(filepath.Join(rd, shardCacheDir), 0o700))
				require.NoError(t, os.Chmod(filepath.Join(rd, shardCacheDir), 0o777))
			} else {
				require.NoError(t, os.Chmod(rd, 0o777))
			}
			c := newShardClient(t, Options{RepodataDir: rd})
			for range 2 {
				found, err := c.findInShards(context.Background(), s.URL+"/chan/linux-64/repodata.json", []string{"a-1.0-h0_0.conda"})
				require.NoError(t, err)
				require.NoError(t, found["a-1.0-h0_0.conda"].Err)
			}
			// Nothing is kept in, or read from, a directory others can write.
			assert.Equal(t, 2, s.hitsUnder("/chan/linux-64/shards"))
			if open == "repodata" {
				assert.NoDirExists(t, filepath.Join(rd, shardCacheDir), "nothing is made in it")
			}
		})
	}
}

// serveIndex serves an index naming shards (name → bytes of the shard as
// served) and the shards, and returns the repodata URL.
func serveIndex(t *testing.T, s *shardServer, dir string, shards map[string][]byte) string {
	sums := map[string][32]byte{}
	for name, z := range shards {
		sum := sha256.Sum256(z)
		sums[name] = sum
		s.put(dir+"/shards/"+cep16.ShardFile(sum), z)
	}
	s.put(dir+"/"+shardIndexFile, cep16.Compress(cep16.AppendIndex(nil, testInfo, sums)))
	return s.URL + dir + "/repodata.json"
}

func goodShard(t *testing.T, name string) []byte {
	var recs []cep16.Record
	for _, r := range testRecords() {
		if r.Name == name {
			recs = append(recs, r)
		}
	}
	b, err := cep16.AppendShard(nil, recs, nil, cep16.ShardOptions{})
	require.NoError(t, err)
	return cep16.Compress(b)
}

// streamCompress compresses without a content size in the frame header.
func streamCompress(t *testing.T, frames ...[]byte) []byte {
	var buf bytes.Buffer
	for _, f := range frames {
		w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		require.NoError(t, err)
		_, err = w.Write(f)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	return buf.Bytes()
}

func TestFindInShardsHostileShards(t *testing.T) {
	big := make([]byte, maxShardSize+1)
	_, _ = rand.Read(big)
	dupShard, err := cep16.AppendShard(nil, []cep16.Record{testRecords()[0], testRecords()[0], testRecords()[1]}, nil, cep16.ShardOptions{})
	require.NoError(t, err)
	cases := []struct {
		name  string
		shard []byte // a's, as served; its hash is in the index
		kind  Kind
		msg   string
	}{
		{"not msgpack", cep16.Compress([]byte{0x91, 0xc1}), KindMalformed, "invalid shard"},
		{"not zstd", []byte("plain bytes"), KindMalformed, "invalid zstd"},
		{"truncated zstd", goodShard(t, "a")[:20], KindMalformed, "invalid zstd"},
		{"bomb with a content size", cep16.Compress(make([]byte, maxShardDecoded+1)), KindTooLarge, "decompresses to more than"},
		{"bomb without a content size", streamCompress(t, make([]byte, maxShardDecoded+1)), KindTooLarge, "decompresses to more than"},
		{"bomb of many frames", streamCompress(t, make([]byte, 12<<20), make([]byte, 12<<20), make([]byte, 12<<20)), KindTooLarge, "decompresses to more than"},
		{"larger than the cap as served", big, KindTooLarge, "larger than the cap"},
		{"a file listed twice", cep16.Compress(dupShard), KindMalformed, "2 times"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShardServer(t)
			u := serveIndex(t, s, fmt.Sprintf("/c%d/linux-64", i), map[string][]byte{"a": tc.shard, "b": goodShard(t, "b")})
			c := newShardClient(t, Options{})
			found, err := c.findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda", "b-2-0.conda"})
			require.NoError(t, err)
			aErr := found["a-1.0-h0_0.conda"].Err
			requireKindOf(t, aErr, tc.kind)
			assert.Contains(t, aErr.Error(), tc.msg)
			assert.Contains(t, aErr.Error(), s.URL+fmt.Sprintf("/c%d/linux-64/shards/", i), "the error names the shard")
			require.NoError(t, found["b-2-0.conda"].Err, "a bad shard fails only the files that need it")
		})
	}
}

func TestFindInShardsHashMismatch(t *testing.T) {
	s := newShardServer(t)
	const dir = "/chan/linux-64"
	sums := s.publish(t, dir, dir+"/shards", testInfo, testRecords(), cep16.ShardOptions{})
	// Another valid shard, served under a's name.
	s.put(shardPath(dir+"/shards", sums["a"]), goodShard(t, "b"))
	rd := privateRepodataDir(t)
	c := newShardClient(t, Options{RepodataDir: rd})
	found, err := c.findInShards(context.Background(), s.URL+dir+"/repodata.json", []string{"a-1.0-h0_0.conda", "b-2-0.conda"})
	require.NoError(t, err)
	requireKindOf(t, found["a-1.0-h0_0.conda"].Err, KindHashMismatch)
	require.NoError(t, found["b-2-0.conda"].Err)
	assert.NoFileExists(t, cachedShard(t, rd, s.URL+dir+"/"+shardIndexFile, sums["a"]), "what does not hash is not kept")
}

func TestFindInShardsHostileIndex(t *testing.T) {
	cases := []struct {
		name  string
		index []byte
		kind  Kind
	}{
		{"not msgpack", cep16.Compress([]byte{0x80, 0x01}), KindMalformed},
		{"no shards_base_url", cep16.Compress([]byte{0x82, 0xa4, 'i', 'n', 'f', 'o', 0x80, 0xa6, 's', 'h', 'a', 'r', 'd', 's', 0x80}), KindMalformed},
		{"not zstd", []byte("{}"), KindMalformed},
		{"bomb", streamCompress(t, make([]byte, maxShardIndexSize+1)), KindTooLarge},
		{"bomb with a content size", cep16.Compress(make([]byte, maxShardIndexSize+1)), KindTooLarge},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShardServer(t)
			dir := fmt.Sprintf("/c%d/linux-64", i)
			s.put(dir+"/"+shardIndexFile, tc.index)
			c := newShardClient(t, Options{})
			found, err := c.findInShards(context.Background(), s.URL+dir+"/repodata.json", []string{"a-1.0-h0_0.conda"})
			requireKindOf(t, err, tc.kind)
			require.NotErrorIs(t, err, errNoShards)
			requireKindOf(t, found["a-1.0-h0_0.conda"].Err, tc.kind)
			assert.Contains(t, err.Error(), s.URL+dir+"/"+shardIndexFile)
		})
	}
	// The compressed cap follows a lower MaxRepodataSize.
	s := newShardServer(t)
	u := serveIndex(t, s, "/small/linux-64", map[string][]byte{"a": goodShard(t, "a")})
	_, err := newShardClient(t, Options{MaxRepodataSize: 10}).findInShards(context.Background(), u, []string{"a-1.0-h0_0.conda"})
	requireKindOf(t, err, KindTooLarge)
}

func TestDecompressGrows(t *testing.T) {
	dec, _, err := New(Options{}).shardDecoder()
	require.NoError(t, err)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, compresses well
	out, err := decompress(dec, streamCompress(t, data), maxShardDecoded, "u")
	require.NoError(t, err)
	assert.Equal(t, data, out)
	out, err = decompress(dec, streamCompress(t, data, data), maxShardDecoded, "u")
	require.NoError(t, err)
	assert.Len(t, out, 2*len(data))
	_, err = decompress(dec, streamCompress(t, data, data), len(data)*2-1, "u")
	requireKindOf(t, err, KindTooLarge)
}

func TestShardIndexURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://h/c/linux-64/repodata.json":             "https://h/c/linux-64/" + shardIndexFile,
		"https://u:p@h/t/tok/c/noarch/repodata.json?x=1": "https://u:p@h/t/tok/c/noarch/" + shardIndexFile + "?x=1",
		"https://h/c%20d/noarch/repodata.json":           "https://h/c%20d/noarch/" + shardIndexFile,
	} {
		u, err := shardIndexURL(in)
		require.NoError(t, err)
		assert.Equal(t, want, u.String())
	}
	_, err := shardIndexURL("https://h/c/linux-64/current_repodata.json")
	requireKindOf(t, err, KindInvalidURL)
}

func TestDecodeShardFound(t *testing.T) {
	r := testRecords()[0]
	shard, err := cep16.AppendShard(nil, []cep16.Record{r, testRecords()[1]}, nil, cep16.ShardOptions{})
	require.NoError(t, err)
	found, err := decodeShard(shard, []string{r.Filename, "a-0.9-h0_0.tar.bz2", "x-1-0.conda"}, "linux-64")
	require.NoError(t, err)
	require.NoError(t, found[r.Filename].Err)
	require.NoError(t, found["a-0.9-h0_0.tar.bz2"].Err)
	requireKindOf(t, found["x-1-0.conda"].Err, KindNotFound)

	_, err = decodeShard([]byte{0xc1}, []string{r.Filename}, "")
	requireKindOf(t, err, KindMalformed)
	_, err = decodeShardIndex([]byte{0xc1}, nil, nil)
	requireKindOf(t, err, KindMalformed)
}

// BenchmarkShardIndex decompresses and decodes an index of 30,000 names,
// as conda-forge's linux-64.
func BenchmarkShardIndex(b *testing.B) {
	shards := make(map[string][32]byte, 30000)
	for i := range 30000 {
		name := fmt.Sprintf("package-name-%d", i)
		shards[name] = sha256.Sum256([]byte(name))
	}
	z := cep16.Compress(cep16.AppendIndex(nil, testInfo, shards))
	dec, _, err := New(Options{}).shardDecoder()
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		raw, err := decompress(dec, z, maxShardIndexSize, "u")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeShardIndex(raw, func(n []byte) bool { return string(n) == "package-name-7" }, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(z)), "zst-bytes")
}

// BenchmarkShard decompresses and decodes a shard of 50 records, and
// finds one of them.
func BenchmarkShard(b *testing.B) {
	var recs []cep16.Record
	for i := range 50 {
		recs = append(recs, cep16.Record{
			Filename: fmt.Sprintf("numpy-2.%d.0-py312h0_0.conda", i), Name: "numpy", Version: fmt.Sprintf("2.%d.0", i), Build: "py312h0_0",
			Size: 8 << 20, SHA256: sumA, MD5: md5A, AttestationsSHA256: attA,
		})
	}
	m, err := cep16.AppendShard(nil, recs, nil, cep16.ShardOptions{})
	require.NoError(b, err)
	z := cep16.Compress(m)
	dec, _, err := New(Options{}).shardDecoder()
	require.NoError(b, err)
	want := []string{"numpy-2.25.0-py312h0_0.conda"}
	b.ReportAllocs()
	for b.Loop() {
		raw, err := decompress(dec, z, maxShardDecoded, "u")
		if err != nil {
			b.Fatal(err)
		}
		found, err := decodeShard(raw, want, "linux-64")
		if err != nil || found[want[0]].Err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(z)), "zst-bytes")
}

func TestFindInShardsConcurrencyAndCancel(t *testing.T) {
	var recs []cep16.Record
	var files []string
	for i := range 12 {
		name := fmt.Sprintf("p%d", i)
		recs = append(recs, cep16.Record{Filename: name + "-1-0.conda", Name: name, Version: "1", Build: "0"})
		files = append(files, name+"-1-0.conda")
	}
	sub, err := cep16.Build(testInfo, recs, cep16.ShardOptions{})
	require.NoError(t, err)
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, shardIndexFile) {
			_, _ = w.Write(sub.Index)
			return
		}
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		_, _ = w.Write(sub.Shards[strings.TrimPrefix(r.URL.Path, "/c/linux-64/shards/")])
	}))
	defer srv.Close()
	c := newShardClient(t, Options{})
	found, err := c.findInShards(context.Background(), srv.URL+"/c/linux-64/repodata.json", files)
	require.NoError(t, err)
	for _, f := range files {
		require.NoError(t, found[f].Err, f)
	}
	assert.LessOrEqual(t, most, shardsPerCall)
	assert.Greater(t, most, 1, "shards are fetched concurrently")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	found, err = c.findInShards(ctx, srv.URL+"/c/linux-64/repodata.json", files)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, found[files[0]].Err, context.Canceled)
}

// FuzzDecodeShard: what decodeShard says of each wanted file is a record
// of that file or a *Error, never a panic. The decoder's own targets are
// in internal/cep16.
func FuzzDecodeShard(f *testing.F) {
	m, err := cep16.AppendShard(nil, testRecords(), nil, cep16.ShardOptions{AttestationsAsBin: true})
	require.NoError(f, err)
	f.Add(m, "a-1.0-h0_0.conda", "b-2-0.conda")
	f.Add(m, "b-2-0.conda", "b-2-0.conda")
	f.Fuzz(func(t *testing.T, b []byte, f1, f2 string) {
		found, err := decodeShard(b, []string{f1, f2}, "linux-64")
		for _, f := range []string{f1, f2} {
			got, ok := found[f]
			if !ok {
				t.Fatalf("no answer for %q", f)
			}
			var fe *Error
			switch {
			case got.Err == nil && got.Record.Filename != f:
				t.Fatalf("the record of %q for %q", got.Record.Filename, f)
			case got.Err != nil && !errors.As(got.Err, &fe):
				t.Fatalf("an error of type %T", got.Err)
			case got.Err == nil && got.Record.AttestationsSHA256 != "" && len(got.Record.AttestationsSHA256) != 64:
				t.Fatalf("attestations_sha256 %q", got.Record.AttestationsSHA256)
			}
		}
		if err != nil && KindOf(err) != KindMalformed {
			t.Fatalf("error %v", err)
		}
	})
}

// FuzzDecodeShardIndex: the index decoder behind the client, through its
// zstd decoder and caps: no panic, no output beyond the cap.
func FuzzDecodeShardIndex(f *testing.F) {
	sub, err := cep16.Build(testInfo, testRecords(), cep16.ShardOptions{})
	require.NoError(f, err)
	f.Add(sub.Index)
	f.Add(mustDecompress(f, sub.Index))
	dec, _, err := New(Options{}).shardDecoder()
	require.NoError(f, err)
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, err := decompress(dec, b, limit, "u")
		if err != nil {
			if k := KindOf(err); k != KindMalformed && k != KindTooLarge {
				t.Fatalf("error %v", err)
			}
			raw = b // the msgpack itself
		}
		if len(raw) > limit {
			t.Fatalf("%d bytes decoded", len(raw))
		}
		if _, err := decodeShardIndex(raw, func(n []byte) bool { return string(n) == "a" }, func([32]byte) {}); err != nil && KindOf(err) != KindMalformed {
			t.Fatalf("error %v", err)
		}
	})
}
