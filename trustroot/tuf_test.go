package trustroot_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condasigs/condasigs/internal/testlog"
	"github.com/condasigs/condasigs/internal/tufrepo"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/trustroot"
)

var (
	publicGoodRoot = fixtures.Read(fixtures.PublicGoodRootFile)
	stagingRoot    = fixtures.Read(fixtures.StagingRootFile)
)

// fastFetch retries once, without the default backoff, so that tests of a
// failing mirror take milliseconds.
var fastFetch = fetch.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}

// tufOptions are the options of a TUF source following repo, caching in
// cacheDir, with no background refresh.
func tufOptions(repo *tufrepo.Repo, cacheDir string) trustroot.TUFOptions {
	return trustroot.TUFOptions{
		RepositoryURL:   repo.URL(),
		Root:            repo.Root(),
		CacheDir:        cacheDir,
		RefreshInterval: -1,
		Fetch:           fastFetch,
	}
}

func newTUF(t *testing.T, opts trustroot.TUFOptions) *trustroot.TUF {
	t.Helper()
	src, err := trustroot.NewTUF(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	return src
}

func snapshot(t *testing.T, src trustroot.Source) *trustroot.Snapshot {
	t.Helper()
	snap, err := src.Snapshot(context.Background())
	require.NoError(t, err)
	require.NotNil(t, snap)
	return snap
}

// countingTransport counts the round trips of an HTTP client.
type countingTransport struct {
	n atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// failingTransport fails the test on any request.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, fmt.Errorf("no requests allowed")
}

// 2a.
func TestTUFLoads(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	before := time.Now().UTC()
	src := newTUF(t, tufOptions(repo, cache))

	snap := snapshot(t, src)
	assert.Equal(t, "tuf", snap.Info.Kind)
	assert.Equal(t, repo.URL(), snap.Info.Source)
	assert.False(t, snap.Info.FromCache)
	assert.False(t, snap.Info.LoadedAt.Before(before.Add(-time.Second)))
	assert.NotEmpty(t, snap.Material.FulcioCertificateAuthorities())
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snap.Material))
	assert.NoError(t, src.LastError())
	assert.Positive(t, repo.Hits())

	// The metadata and the target are cached under the cache directory.
	dir := trustroot.RepositoryCacheDir(cache, repo.URL())
	for _, f := range []string{"root.json", "timestamp.json", "snapshot.json", "targets.json", filepath.Join("targets", "trusted_root.json")} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	cached, err := os.ReadFile(filepath.Join(dir, "targets", "trusted_root.json"))
	require.NoError(t, err)
	assert.Equal(t, publicGoodRoot, cached)

	// A Refresh with nothing new keeps the same material and makes no
	// needless downloads of the target.
	require.NoError(t, src.Refresh(context.Background()))
	assert.Equal(t, rekorLogIDs(snap.Material), rekorLogIDs(snapshot(t, src).Material))
	assert.NoError(t, src.LastError())
}

// 2b.
func TestTUFOfflineUsesCacheOnly(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	online := newTUF(t, tufOptions(repo, cache))
	updated := snapshot(t, online).Info.LoadedAt
	require.NoError(t, online.Close())

	hits := repo.Hits()
	opts := tufOptions(repo, cache)
	opts.Offline = true
	opts.RefreshInterval = 10 * time.Millisecond // ignored offline
	opts.HTTPClient = &http.Client{Transport: failingTransport{t}}
	offline := newTUF(t, opts)
	snap := snapshot(t, offline)
	assert.Equal(t, "tuf", snap.Info.Kind)
	assert.True(t, snap.Info.FromCache)
	assert.WithinDuration(t, updated, snap.Info.LoadedAt, 2*time.Second, "the age is the cache's, not the load's")
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snap.Material))
	assert.Equal(t, hits, repo.Hits(), "offline mode made requests")

	// Offline, a refresh re-reads the cache: a new publication is not seen
	// and still no request is made.
	repo.Publish(stagingRoot)
	require.NoError(t, offline.Refresh(context.Background()))
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, offline).Material))
	assert.Equal(t, hits, repo.Hits(), "offline refresh made requests")
	require.NoError(t, offline.Close())
}

// 2b.
func TestTUFOfflineEmptyCache(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	opts := tufOptions(repo, t.TempDir())
	opts.Offline = true
	src, err := trustroot.NewTUF(context.Background(), opts)
	require.Error(t, err)
	assert.Nil(t, src)
	assert.Contains(t, err.Error(), "trustroot: ")
	assert.Contains(t, err.Error(), "offline")
	assert.Contains(t, err.Error(), "cache is empty or expired")
	assert.Zero(t, repo.Hits())
}

// The defaults (public-good repository, embedded root) never reach the
// network offline.
func TestTUFOfflineDefaultsNoNetwork(t *testing.T) {
	t.Parallel()
	for _, opts := range []trustroot.TUFOptions{{}, trustroot.PublicGood(), trustroot.Staging()} {
		opts.Offline = true
		opts.CacheDir = t.TempDir()
		opts.HTTPClient = &http.Client{Transport: failingTransport{t}}
		_, err := trustroot.NewTUF(context.Background(), opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "offline")
	}
}

func TestTUFOfflineWithoutCache(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	opts := tufOptions(repo, "")
	opts.Offline = true
	opts.DisableCache = true
	_, err := trustroot.NewTUF(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "offline mode needs a TUF cache")
	assert.Zero(t, repo.Hits())
}

// 2c.
func TestTUFRefreshPicksUpNewTarget(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	src := newTUF(t, tufOptions(repo, cache))
	old := snapshot(t, src)
	oldIDs := rekorLogIDs(old.Material)
	require.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), oldIDs)

	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	assert.NoError(t, src.LastError())

	cur := snapshot(t, src)
	assert.NotSame(t, old, cur)
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(cur.Material))
	assert.Equal(t, "tuf", cur.Info.Kind)
	assert.False(t, cur.Info.LoadedAt.Before(old.Info.LoadedAt))
	// The old snapshot is untouched.
	assert.Equal(t, oldIDs, rekorLogIDs(old.Material))
	assert.Equal(t, "tuf", old.Info.Kind)

	// The refresh updated the cache: an offline source on it sees the new
	// target, and so does a source starting from an empty cache.
	offline := tufOptions(repo, cache)
	offline.Offline = true
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, newTUF(t, offline)).Material))
	fresh := newTUF(t, tufOptions(repo, t.TempDir()))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, fresh).Material))
}

// 2d.
func TestTUFMirrorDownKeepsLastGood(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	logger, logs := testlog.New()
	opts := tufOptions(repo, t.TempDir())
	opts.Logger = logger
	src := newTUF(t, opts)
	good := snapshot(t, src)

	repo.SetDown(true)
	hits := repo.Hits()
	err := src.Refresh(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trustroot: ")
	assert.Contains(t, err.Error(), "503")
	require.Error(t, src.LastError())
	assert.Contains(t, src.LastError().Error(), "503")
	assert.Same(t, good, snapshot(t, src), "a failed refresh must keep the last good snapshot")
	assert.Greater(t, repo.Hits(), hits)

	// Back up: the next refresh succeeds and clears the error.
	repo.SetDown(false)
	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	assert.NoError(t, src.LastError())
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
	assert.NotContains(t, logs.String(), "level=ERROR")
}

// 2e.
func TestTUFStartupMirrorDownUsesCache(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	first := newTUF(t, tufOptions(repo, cache))
	require.NoError(t, first.Close())

	repo.SetDown(true)
	hits := repo.Hits()
	logger, logs := testlog.New()
	opts := tufOptions(repo, cache)
	opts.Logger = logger
	src := newTUF(t, opts)
	snap := snapshot(t, src)
	assert.Equal(t, "tuf", snap.Info.Kind)
	assert.True(t, snap.Info.FromCache)
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snap.Material))
	assert.Greater(t, repo.Hits(), hits, "the mirror was tried first")
	assert.Contains(t, logs.String(), "using the cached trusted root")
	// The root in use was not refreshed, and LastError says why.
	require.Error(t, src.LastError())
	assert.Contains(t, src.LastError().Error(), "503")

	repo.SetDown(false)
	require.NoError(t, src.Refresh(context.Background()))
	assert.NoError(t, src.LastError())
}

func TestTUFStartupMirrorDownNoCache(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	repo.SetDown(true)
	_, err := trustroot.NewTUF(context.Background(), tufOptions(repo, t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503", "the network error is reported, not the cache's")
	assert.NotContains(t, err.Error(), "offline")
}

// 2f.
func TestTUFExpiredTimestampRefused(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	repo.PublishExpiring(publicGoodRoot, time.Now().Add(-time.Hour))
	_, err := trustroot.NewTUF(context.Background(), tufOptions(repo, t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timestamp.json is expired")
}

// A mirror that starts serving an expired timestamp (a freeze attack) does
// not replace a good root.
func TestTUFExpiredTimestampOnRefresh(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	src := newTUF(t, tufOptions(repo, cache))
	good := snapshot(t, src)

	repo.PublishExpiring(stagingRoot, time.Now().Add(-time.Hour))
	err := src.Refresh(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expired")
	assert.Same(t, good, snapshot(t, src))

	// The valid cache was not overwritten by the expired timestamp.
	again := newTUF(t, tufOptions(repo, cache))
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, again).Material))
	require.Error(t, again.LastError())
}

// A repository signed by other keys than the given root is refused.
func TestTUFWrongRoot(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	other := tufrepo.New(t, publicGoodRoot)
	opts := tufOptions(repo, t.TempDir())
	opts.Root = other.Root()
	_, err := trustroot.NewTUF(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trustroot: TUF update from "+repo.URL())
	assert.Zero(t, other.Hits())
}

// A target whose bytes do not match the signed targets metadata is refused.
func TestTUFTamperedTarget(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	tampered := append([]byte(nil), publicGoodRoot...)
	tampered[len(tampered)-2] ^= 1
	repo.SetFile(strings.TrimPrefix(tufrepo.TargetPath(publicGoodRoot), "/"), tampered)
	_, err := trustroot.NewTUF(context.Background(), tufOptions(repo, t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trusted_root.json")
}

// A target that is not a usable trusted root is refused.
func TestTUFTargetNotUsable(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, fixtures.Read(fixtures.GitHubRootFile))
	_, err := trustroot.NewTUF(context.Background(), tufOptions(repo, t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TUF target trusted_root.json")
	assert.Contains(t, err.Error(), "no transparency log")
}

func TestTUFMissingTarget(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	opts := tufOptions(repo, t.TempDir())
	opts.Target = "other_root.json"
	_, err := trustroot.NewTUF(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "other_root.json")
	assert.Contains(t, err.Error(), "not found")
}

// 2g.
func TestTUFCustomRepositoryNeedsRoot(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	for _, root := range [][]byte{nil, {}} {
		opts := tufOptions(repo, t.TempDir())
		opts.Root = root
		opts.HTTPClient = &http.Client{Transport: failingTransport{t}}
		src, err := trustroot.NewTUF(context.Background(), opts)
		require.Error(t, err)
		assert.Nil(t, src)
		assert.Contains(t, err.Error(), "needs its initial root.json (TUFOptions.Root)")
		assert.Contains(t, err.Error(), repo.URL())
	}
	assert.Zero(t, repo.Hits())
}

func TestTUFCustomRepositoryURLRedacted(t *testing.T) {
	t.Parallel()
	_, err := trustroot.NewTUF(context.Background(), trustroot.TUFOptions{
		RepositoryURL: "https://user:secret@tuf.example.com/t/tok123/repo?key=secret",
		CacheDir:      t.TempDir(),
	})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.NotContains(t, err.Error(), "tok123")
}

func TestPublicGoodAndStagingOptions(t *testing.T) {
	t.Parallel()
	pg := trustroot.PublicGood()
	assert.Equal(t, tuf.DefaultMirror, pg.RepositoryURL)
	assert.Equal(t, tuf.DefaultRoot(), pg.Root)
	st := trustroot.Staging()
	assert.Equal(t, tuf.StagingMirror, st.RepositoryURL)
	assert.Equal(t, tuf.StagingRoot(), st.Root)
	assert.NotEqual(t, pg.Root, st.Root)
}

// 2i.
func TestTUFUsesCallerHTTPClient(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	rt := &countingTransport{}
	opts := tufOptions(repo, t.TempDir())
	opts.HTTPClient = &http.Client{Transport: rt}
	// HTTPClient wins over Fetch.HTTPClient.
	opts.Fetch.HTTPClient = &http.Client{Transport: failingTransport{t}}
	src := newTUF(t, opts)
	assert.Positive(t, rt.n.Load())
	assert.Equal(t, repo.Hits(), rt.n.Load(), "every request went through the caller's client")

	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	assert.Equal(t, repo.Hits(), rt.n.Load())
}

func TestTUFFetchHTTPClientUsed(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	rt := &countingTransport{}
	opts := tufOptions(repo, t.TempDir())
	opts.Fetch.HTTPClient = &http.Client{Transport: rt}
	newTUF(t, opts)
	assert.Equal(t, repo.Hits(), rt.n.Load())
	assert.Positive(t, rt.n.Load())
}

func TestTUFDisableCache(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := filepath.Join(t.TempDir(), "cache")
	opts := tufOptions(repo, cache)
	opts.DisableCache = true
	src := newTUF(t, opts)
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
	assert.NoDirExists(t, cache, "nothing is written with the cache disabled")

	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
	assert.NoDirExists(t, cache)
}

func TestTUFUnusableCacheDir(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	logger, logs := testlog.New()
	opts := tufOptions(repo, filepath.Join(file, "tuf"))
	opts.Logger = logger
	src := newTUF(t, opts)
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
	assert.Contains(t, logs.String(), "cache directory unusable")

	// Offline, an unusable cache is an error.
	opts.Offline = true
	_, err := trustroot.NewTUF(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "offline mode needs a TUF cache")
}

// Refreshes from several goroutines and the background loop, while the
// repository publishes: each ends without error and, once the last one
// has returned, the newest publication is in use.
func TestTUFConcurrentRefresh(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	opts := tufOptions(repo, t.TempDir())
	opts.RefreshInterval = 5 * time.Millisecond
	src := newTUF(t, opts)

	roots := [][]byte{stagingRoot, publicGoodRoot}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				if err := src.Refresh(context.Background()); err != nil {
					errs <- err
				}
				if _, err := src.Snapshot(context.Background()); err != nil {
					errs <- err
				}
				_ = src.LastError()
			}
		}()
		repo.Publish(roots[i%2])
	}
	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	wg.Wait()
	require.NoError(t, src.Close())
	close(errs)
	for err := range errs {
		t.Errorf("refresh: %v", err)
	}
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
	assert.NoError(t, src.LastError())
}

// refreshLoopRunning reports whether any TUF background refresh goroutine
// exists. The tests that use it are not parallel, so that no other test's
// loop is running.
func refreshLoopRunning() bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Contains(buf[:n], []byte("trustroot.(*TUF).refreshLoop"))
		}
		buf = make([]byte, 2*len(buf))
	}
}

func requireNoRefreshLoop(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return !refreshLoopRunning() }, 5*time.Second, time.Millisecond,
		"the background refresh goroutine is still running")
}

// 2h. Not parallel: it checks that no refresh goroutine is left.
func TestTUFBackgroundRefresh(t *testing.T) {
	requireNoRefreshLoop(t)
	repo := tufrepo.New(t, publicGoodRoot)
	logger, logs := testlog.New()
	opts := tufOptions(repo, t.TempDir())
	opts.RefreshInterval = 20 * time.Millisecond
	opts.Logger = logger
	src, err := trustroot.NewTUF(context.Background(), opts)
	require.NoError(t, err)
	first := snapshot(t, src)
	require.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(first.Material))
	require.Eventually(t, refreshLoopRunning, 5*time.Second, time.Millisecond, "no background refresh goroutine")

	repo.Publish(stagingRoot)
	want := fixtureLogIDs(fixtures.StagingRootFile)
	require.Eventually(t, func() bool {
		snap, _ := src.Snapshot(context.Background())
		return snap != first && assert.ObjectsAreEqual(want, rekorLogIDs(snap.Material))
	}, 5*time.Second, 2*time.Millisecond, "the background refresh did not pick up the new target")
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(first.Material))

	// A failing mirror is logged and the last good root kept.
	good := snapshot(t, src)
	repo.SetDown(true)
	require.Eventually(t, func() bool { return src.LastError() != nil }, 5*time.Second, 2*time.Millisecond)
	assert.Equal(t, want, rekorLogIDs(snapshot(t, src).Material))
	assert.NotSame(t, first, good)
	require.Eventually(t, func() bool {
		return bytes.Contains([]byte(logs.String()), []byte("keeping the last good root"))
	}, 5*time.Second, 2*time.Millisecond)

	done := make(chan error)
	go func() { done <- src.Close() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	requireNoRefreshLoop(t)
	require.NoError(t, src.Close(), "Close twice")
	assert.Contains(t, logs.String(), "trusted root refreshed")
}

// Not parallel: it checks that no refresh goroutine is left.
func TestTUFContextEndStopsRefresh(t *testing.T) {
	requireNoRefreshLoop(t)
	repo := tufrepo.New(t, publicGoodRoot)
	ctx, cancel := context.WithCancel(context.Background())
	opts := tufOptions(repo, t.TempDir())
	opts.RefreshInterval = 5 * time.Millisecond
	src, err := trustroot.NewTUF(ctx, opts)
	require.NoError(t, err)
	require.Eventually(t, refreshLoopRunning, 5*time.Second, time.Millisecond, "no background refresh goroutine")
	cancel()
	requireNoRefreshLoop(t)
	require.NoError(t, src.Close())
	// The last good root is still there.
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
}

// Not parallel: it checks that no refresh goroutine is started.
func TestTUFNoLoopWithoutInterval(t *testing.T) {
	requireNoRefreshLoop(t)
	repo := tufrepo.New(t, publicGoodRoot)
	src, err := trustroot.NewTUF(context.Background(), tufOptions(repo, t.TempDir()))
	require.NoError(t, err)
	assert.False(t, refreshLoopRunning(), "RefreshInterval < 0 starts no loop")
	require.NoError(t, src.Close())
}

// inflightTransport counts the round trips in progress.
type inflightTransport struct {
	n atomic.Int64
}

func (c *inflightTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	defer c.n.Add(-1)
	return http.DefaultTransport.RoundTrip(r)
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Close in the middle of a background refresh, whose request the mirror
// never answers, ends that refresh and waits for it.
func TestTUFCloseDuringRefresh(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	rt := &inflightTransport{}
	opts := tufOptions(repo, t.TempDir())
	opts.HTTPClient = &http.Client{Transport: rt}
	opts.RefreshInterval = time.Millisecond
	src, err := trustroot.NewTUF(context.Background(), opts)
	require.NoError(t, err)

	entered := make(chan struct{})
	var once sync.Once
	repo.SetHook(func(r *http.Request) {
		once.Do(func() { close(entered) })
		select {
		case <-r.Context().Done():
		case <-repo.Done():
		}
	})
	waitFor(t, entered, "a background refresh")
	require.EqualValues(t, 1, rt.n.Load())

	done := make(chan struct{})
	go func() { _ = src.Close(); close(done) }()
	waitFor(t, done, "Close")
	assert.Zero(t, rt.n.Load(), "Close returned with a refresh still in flight")
	assert.NoError(t, src.LastError(), "a refresh cut short by Close is no refresh failure")
	assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, src).Material))
}

// refreshWaiting reports whether some goroutine is parked on a lock inside
// TUF.Refresh, outside any download.
func refreshWaiting() bool {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(g, "trustroot.(*TUF).Refresh(") && !strings.Contains(g, "tufFetcher") &&
			(strings.Contains(header, "Lock") || strings.Contains(header, "semacquire")) {
			return true
		}
	}
	return false
}

// A refresh that began before a newer publication must not replace, when
// it ends late, the root of a refresh that saw the newer one.
func TestTUFRefreshNeverGoesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := tufrepo.New(t, publicGoodRoot) // version 1
	src := newTUF(t, tufOptions(repo, t.TempDir()))
	repo.Publish(stagingRoot) // version 2: the cached target is now staging's
	require.NoError(t, src.Refresh(ctx))
	repo.Publish(publicGoodRoot) // version 3

	// Refresh A stalls downloading the public-good target of version 3.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	pgPath := tufrepo.TargetPath(publicGoodRoot)
	repo.SetHook(func(r *http.Request) {
		if r.URL.Path != pgPath {
			return
		}
		once.Do(func() { close(entered) })
		select {
		case <-release:
		case <-r.Context().Done():
		case <-repo.Done():
		}
	})
	aDone := make(chan error, 1)
	go func() { aDone <- src.Refresh(ctx) }()
	waitFor(t, entered, "refresh A")

	// Version 4 is staging again; refresh B starts after it is published.
	repo.Publish(stagingRoot)
	bDone := make(chan error, 1)
	go func() { bDone <- src.Refresh(ctx) }()
	// Let B end if it can; refreshes that are serialized make it wait for A.
	require.Eventually(t, func() bool {
		select {
		case err := <-bDone:
			bDone <- err
			return true
		default:
			return refreshWaiting()
		}
	}, 10*time.Second, time.Millisecond)
	close(release)
	require.NoError(t, <-aDone)
	require.NoError(t, <-bDone)
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material),
		"a late refresh put an older root back")
}

// TestTUFInfoExpires: the snapshot says when its TUF metadata expires.
func TestTUFInfoExpires(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	expires := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	repo.PublishExpiring(publicGoodRoot, expires)
	src := newTUF(t, tufOptions(repo, t.TempDir()))
	assert.Equal(t, expires, snapshot(t, src).Info.Expires)

	opts := tufOptions(repo, "")
	opts.DisableCache = true
	mem := newTUF(t, opts)
	assert.Equal(t, expires, snapshot(t, mem).Info.Expires, "known without a disk cache too")

	// The earliest of timestamp, snapshot and targets counts: a timestamp
	// of 30 days leaves the 7 days of the snapshot and targets.
	repo.PublishExpiring(publicGoodRoot, time.Now().Add(30*24*time.Hour))
	require.NoError(t, src.Refresh(context.Background()))
	assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), snapshot(t, src).Info.Expires, time.Minute)
}

// TestTUFRollbackRefused: a mirror that serves an older timestamp after a
// newer one was seen is refused; the newer root stays.
func TestTUFRollbackRefused(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	old := repo.File("timestamp.json")
	src := newTUF(t, tufOptions(repo, t.TempDir()))
	repo.Publish(stagingRoot)
	require.NoError(t, src.Refresh(context.Background()))
	require.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))

	repo.SetFile("timestamp.json", old)
	err := src.Refresh(context.Background())
	require.Error(t, err, "a rollback to an older timestamp version")
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material), "the newer root stays")
	assert.Error(t, src.LastError())
}

// TestTUFCorruptedCacheNotTrusted: cached metadata or targets that were
// altered on disk are never used: offline fails, online downloads again.
func TestTUFCorruptedCacheNotTrusted(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"timestamp.json", "snapshot.json", "targets.json", filepath.Join("targets", "trusted_root.json")} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			repo := tufrepo.New(t, publicGoodRoot)
			cache := t.TempDir()
			require.NoError(t, newTUF(t, tufOptions(repo, cache)).Close())
			path := filepath.Join(trustroot.RepositoryCacheDir(cache, repo.URL()), file)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			i := bytes.LastIndex(b, []byte(`"`)) - 1 // inside the last string: a signature or key
			if file == filepath.Join("targets", "trusted_root.json") {
				i = bytes.Index(b, []byte("https://")) + 8 // a URL of the trusted root
			}
			b[i] ^= 0x01
			require.NoError(t, os.WriteFile(path, b, 0o644))

			opts := tufOptions(repo, cache)
			opts.Offline = true
			_, err = trustroot.NewTUF(context.Background(), opts)
			assert.Error(t, err, "offline from a corrupted cache")

			online := newTUF(t, tufOptions(repo, cache))
			assert.Equal(t, fixtureLogIDs(fixtures.PublicGoodRootFile), rekorLogIDs(snapshot(t, online).Material), "online, the repository is trusted again")
		})
	}
}
