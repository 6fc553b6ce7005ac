package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/testlog"
)

func TestDirCacheRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	c := mustDirCache(t, filepath.Join(dir, "new", "cache"))
	key := digestOf([]byte("k"))
	for _, d := range []string{"new", "new/cache"} {
		fi, err := os.Stat(filepath.Join(dir, d))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "%s created private, before use", d)
	}

	_, err := c.Get(ctx, key)
	require.ErrorIs(t, err, fetch.ErrCacheMiss, "an entry never written")
	require.NoError(t, c.Put(ctx, key, []byte("one")))
	got, err := c.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []byte("one"), got)
	require.NoError(t, c.Put(ctx, key, []byte("two")))
	got, err = c.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []byte("two"), got, "Put replaces")

	p := filepath.Join(dir, "new", "cache", key[:2], key)
	assert.FileExists(t, p)
	fi, err := os.Stat(filepath.Dir(p))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "the cache stays private to the user")
	leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(p), ".tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers)
}

// A cache of a relative directory keeps the directory that was checked:
// after a change of the working directory it neither reads from nor
// writes to the directory of that name there, which was never checked
// (here one others can write, holding a planted entry).
func TestDirCacheKeepsItsDirectory(t *testing.T) {
	ctx := context.Background()
	checked, other := t.TempDir(), t.TempDir()
	key := digestOf([]byte("k"))
	t.Chdir(checked)
	c := mustDirCache(t, "c")
	require.NoError(t, c.Put(ctx, key, []byte("mine")))

	planted := writeFile(t, other, "c/"+key[:2]+"/"+key, []byte("planted"))
	require.NoError(t, os.Chmod(filepath.Join(other, "c"), 0o777))
	t.Chdir(other)
	_, err := fetch.NewDirCache("c")
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		require.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate, "control: the other directory fails the check")
	}
	got, err := c.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []byte("mine"), got, "read from the directory that was checked")
	require.NoError(t, c.Put(ctx, key, []byte("new")))
	b, err := os.ReadFile(filepath.Join(checked, "c", key[:2], key))
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), b)
	b, err = os.ReadFile(planted)
	require.NoError(t, err)
	assert.Equal(t, []byte("planted"), b, "nothing written to the unchecked directory")
}

func TestDirCacheRefusesUnsafeKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "c")
	c := mustDirCache(t, dir)
	for _, key := range []string{"", "ab", "../../etc", "a/b/c", `a\b\c`, ".hidden", "..x", "abc\x00", "sha256:abc", "ab c", string(bytes.Repeat([]byte("a"), 201))} {
		assert.Error(t, c.Put(ctx, key, []byte("x")), "%q", key)
		_, err := c.Get(ctx, key)
		assert.Error(t, err, "%q", key)
		assert.NotErrorIs(t, err, fetch.ErrCacheMiss, "a bad key is misuse, not a miss: %q", key)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 0, "nothing was written anywhere")
	none, err := fetch.NewDirCache("")
	assert.ErrorIs(t, err, fetch.ErrCacheDirNotPrivate)
	assert.ErrorContains(t, err, "no cache directory")
	assert.Nil(t, none)
}

func TestDirCacheOversizeEntryIsAMiss(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := mustDirCache(t, dir)
	key := "abcdef"
	writeFile(t, dir, "ab/"+key, nil)
	require.NoError(t, os.Truncate(filepath.Join(dir, "ab", key), cachedir.MaxEntry+1))
	_, err := c.Get(context.Background(), key)
	assert.ErrorIs(t, err, fetch.ErrCacheMiss)
}

// Concurrent writers and readers of one key: a reader sees one whole
// value or a miss, never a mix.
func TestDirCacheAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := mustDirCache(t, t.TempDir())
	key := "0123456789"
	values := make([][]byte, 8)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10)
	}
	var wg sync.WaitGroup
	for i := range values {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 5 {
				assert.NoError(t, c.Put(ctx, key, values[i]))
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := c.Get(ctx, key)
				if errors.Is(err, fetch.ErrCacheMiss) {
					continue
				}
				if assert.NoError(t, err) {
					assert.Len(t, got, 256<<10)
					assert.Equal(t, bytes.Repeat(got[:1], len(got)), got, "a torn read")
				}
			}
		}()
	}
	wg.Wait()
}

// countingCache wraps a Cache and counts its calls.
type countingCache struct {
	fetch.Cache
	mu         sync.Mutex
	gets, puts int
	putErr     error
}

func (c *countingCache) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.Cache.Get(ctx, key)
}

func (c *countingCache) Put(ctx context.Context, key string, data []byte) error {
	c.mu.Lock()
	c.puts++
	err := c.putErr
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.Cache.Put(ctx, key, data)
}

func TestFetchSidecarCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := sidecarJSON(300)
	srv := newSidecarServer(t, data)
	dir := t.TempDir()
	cache := &countingCache{Cache: mustDirCache(t, dir)}
	c := newClient(t, fetch.Options{Cache: cache})
	pkgURL := srv.URL + "/chan/noarch/" + pkgFile + "?token=s3cret"
	rec := record(pkgFile, data)

	sc, err := c.FetchSidecar(ctx, pkgURL, rec)
	require.NoError(t, err)
	assert.False(t, sc.FromCache)
	assert.Equal(t, 1, srv.Hits())
	assert.Equal(t, 1, cache.puts)

	// Warm: no request, the same bytes, even with the server gone.
	srv.Close()
	sc, err = c.FetchSidecar(ctx, pkgURL, rec)
	require.NoError(t, err)
	assert.True(t, sc.FromCache)
	assert.Equal(t, data, sc.Data)
	assert.Equal(t, digestOf(data), sc.SHA256)
	assert.NotContains(t, sc.URL, "s3cret")
	assert.Equal(t, 1, srv.Hits())

	// Another client on the same directory (another process) is warm too.
	sc, err = newClient(t, fetch.Options{Cache: mustDirCache(t, dir)}).FetchSidecar(ctx, pkgURL, rec)
	require.NoError(t, err)
	assert.True(t, sc.FromCache)
}

// Whatever a cache entry holds, FetchSidecar returns only the advertised
// bytes: a corrupt, truncated or oversized entry is refetched and replaced.
func TestFetchSidecarCorruptCacheEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := sidecarJSON(300)
	key := digestOf(data)
	for name, entry := range map[string][]byte{
		"other bytes": sidecarJSON(301),
		"truncated":   data[:len(data)-1],
		"empty":       {},
		"one flip":    append(append([]byte{}, data[:10]...), append([]byte{data[10] ^ 1}, data[11:]...)...),
		"over cap":    append(append([]byte{}, data...), repeat(' ', 4096)...),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newSidecarServer(t, data)
			logger, logs := testlog.New()
			cache := mustDirCache(t, t.TempDir())
			require.NoError(t, cache.Put(ctx, key, entry))
			c := newClient(t, fetch.Options{Cache: cache, MaxSidecarSize: int64(len(data)) + 100, Logger: logger})
			sc, err := c.FetchSidecar(ctx, srv.URL+"/chan/noarch/"+pkgFile, record(pkgFile, data))
			require.NoError(t, err)
			assert.False(t, sc.FromCache)
			assert.Equal(t, data, sc.Data)
			assert.Equal(t, 1, srv.Hits(), "the entry was not trusted")
			assert.Contains(t, logs.String(), "cached sidecar")
			fixed, err := cache.Get(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, data, fixed, "the entry was rebuilt")
		})
	}
}

// A retrieval that fails, or bytes that do not hash to the advertised
// value, never touch the cache; a cache that cannot be written does not
// fail the retrieval.
func TestFetchSidecarCacheFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := sidecarJSON(300)
	srv := newSidecarServer(t, data)

	cache := &countingCache{Cache: mustDirCache(t, t.TempDir())}
	c := newClient(t, fetch.Options{Cache: cache})
	_, err := c.FetchSidecar(ctx, srv.URL+"/chan/noarch/"+pkgFile, record(pkgFile, sidecarJSON(301)))
	requireKind(t, err, fetch.KindNotFound)
	wrong := record(pkgFile, data)
	srvWrong := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(sidecarJSON(301)) })
	_, err = c.FetchSidecar(ctx, srvWrong.URL+"/chan/noarch/"+pkgFile, wrong)
	requireKind(t, err, fetch.KindHashMismatch)
	assert.Equal(t, 0, cache.puts)

	broken := &countingCache{Cache: mustDirCache(t, t.TempDir()), putErr: fmt.Errorf("read-only file system")}
	logger, logs := testlog.New()
	sc, err := newClient(t, fetch.Options{Cache: broken, Logger: logger}).FetchSidecar(ctx, srv.URL+"/chan/noarch/"+pkgFile, record(pkgFile, data))
	require.NoError(t, err)
	assert.Equal(t, data, sc.Data)
	assert.Contains(t, logs.String(), "read-only file system")
}

// A cached sidecar over the client's size cap is not used, even when it
// hashes to the advertised value: the cap applies to every source.
func TestFetchSidecarCachedOverCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := sidecarJSON(300)
	srv := newSidecarServer(t, data)
	cache := mustDirCache(t, t.TempDir())
	require.NoError(t, cache.Put(ctx, digestOf(data), data))
	c := newClient(t, fetch.Options{Cache: cache, MaxSidecarSize: int64(len(data)) - 1})
	_, err := c.FetchSidecar(ctx, srv.URL+"/chan/noarch/"+pkgFile, record(pkgFile, data))
	requireKind(t, err, fetch.KindTooLarge)
	assert.Equal(t, 1, srv.Hits(), "fetched, and refused, instead")
}
