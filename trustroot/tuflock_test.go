package trustroot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/testlog"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/condasigs/condasigs/trustroot"
)

// Review E, finding 4: TUF sources sharing one writable cache (two
// processes, here two sources and many offline readers) never fail on
// each other's writes: updates hold the cache's lock file exclusively,
// reads of the cache alone hold it shared, and neither sees half an
// update of the other.
func TestTUFSharedCacheConcurrent(t *testing.T) {
	t.Parallel()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	ctx := context.Background()
	writers := []*trustroot.TUF{newTUF(t, tufOptions(repo, cache)), newTUF(t, tufOptions(repo, cache))}

	const rounds = 10
	var wg sync.WaitGroup
	errs := make(chan error, 1024)
	stop := make(chan struct{})
	// The repository publishes without pause while the others run.
	var pub sync.WaitGroup
	pub.Add(1)
	go func() {
		defer pub.Done()
		roots := [][]byte{stagingRoot, publicGoodRoot}
		for i := 0; ; i++ {
			repo.Publish(roots[i%2])
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	for i, w := range writers {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if err := w.Refresh(ctx); err != nil {
						errs <- fmt.Errorf("writer %d: %w", i, err)
					}
				}
			}()
		}
	}
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				src, err := trustroot.NewTUF(ctx, offlineOptions(repo, cache, t))
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", i, err)
					continue
				}
				src.Close()
			}
		}()
	}
	// A third source starts and falls back on nothing: its update shares
	// the cache with the others.
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds / 4 {
				src, err := trustroot.NewTUF(ctx, tufOptions(repo, cache))
				if err != nil {
					errs <- fmt.Errorf("starter %d: %w", i, err)
					continue
				}
				if !assert.NoError(t, src.LastError()) {
					errs <- src.LastError()
				}
				src.Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	pub.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Errorf("%v", err)
		}
	}
	require.Zero(t, n, "%d loads failed", n)

	st, err := os.Lstat(filepath.Join(trustroot.RepositoryCacheDir(cache, repo.URL()), "lock"))
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular())
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the lock file is private")
}

// lockWait is how long a TUF source waits for its cache's lock
// (trustroot's lockWait); lockSlack what a loaded test machine adds.
const (
	lockWait  = 5 * time.Second
	lockSlack = 5 * time.Second
)

// within runs f and returns its error, failing the test if f has not
// returned after max. f must not use t: on failure it may still run after
// the test ended.
func within(t *testing.T, max time.Duration, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Logf("%s returned after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
		return err
	case <-time.After(max):
		t.Fatalf("%s still waiting after %v", what, max)
		return nil
	}
}

// holdLock locks the cache's lock file exclusively from another open
// file description, as another process would, until release (or the end
// of the test) closes it.
func holdLock(t *testing.T, cache, repoURL string) (release func()) {
	t.Helper()
	f, err := lockedfile.OpenFile(filepath.Join(trustroot.RepositoryCacheDir(cache, repoURL), "lock"), os.O_RDWR, 0)
	require.NoError(t, err)
	var once sync.Once
	release = func() { once.Do(func() { f.Close() }) }
	t.Cleanup(release)
	return release
}

// Review F, finding 2: no source waits for its cache's lock without
// bound, whatever its context (NewTUF's lives as long as the source): when
// another process holds the lock for longer than the bound, an update that
// would write the cache reads it without the lock and runs in memory,
// writing nothing (review G), and an offline read goes on without the
// lock. A lock released within the bound is taken as before.
func TestTUFCacheLockWaitBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := tufrepo.New(t, publicGoodRoot)
	cache := t.TempDir()
	logger, logs := testlog.New()
	opts := tufOptions(repo, cache)
	opts.Logger = logger
	src := newTUF(t, opts)
	good := snapshot(t, src)
	repo.Publish(stagingRoot)

	dir := trustroot.RepositoryCacheDir(cache, repo.URL())
	cachedTimestamp, err := os.ReadFile(filepath.Join(dir, "timestamp.json"))
	require.NoError(t, err)
	release := holdLock(t, cache, repo.URL())
	t.Run("held", func(t *testing.T) {
		t.Run("refresh", func(t *testing.T) {
			t.Parallel()
			err := within(t, lockWait+lockSlack, "Refresh", func() error { return src.Refresh(ctx) })
			require.NoError(t, err, "an update waits for the lock's holder at most lockWait, then runs in memory")
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
			assert.NotSame(t, good, snapshot(t, src))
		})
		t.Run("new source", func(t *testing.T) {
			t.Parallel()
			var fresh *trustroot.TUF
			err := within(t, lockWait+lockSlack, "NewTUF", func() (err error) {
				fresh, err = trustroot.NewTUF(ctx, opts)
				return err
			})
			require.NoError(t, err)
			defer fresh.Close()
			snap := snapshot(t, fresh)
			assert.False(t, snap.Info.FromCache, "updated in memory, from the cache read without the lock")
			assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snap.Material))
			assert.NoError(t, fresh.LastError())
		})
		t.Run("offline", func(t *testing.T) {
			t.Parallel()
			var off *trustroot.TUF
			err := within(t, lockWait+lockSlack, "offline NewTUF", func() (err error) {
				off, err = trustroot.NewTUF(ctx, offlineOptions(repo, cache, t))
				return err
			})
			require.NoError(t, err, "an offline read of the cache is refused while another process holds the lock")
			defer off.Close()
			assert.True(t, snapshot(t, off).Info.FromCache)
		})
	})
	release()
	assert.Contains(t, logs.String(), "writing nothing")
	after, err := os.ReadFile(filepath.Join(dir, "timestamp.json"))
	require.NoError(t, err)
	assert.Equal(t, cachedTimestamp, after, "nothing written beside the lock's holder")

	// Released within the bound: the update waits for it, and goes on.
	time.AfterFunc(lockWait/10, holdLock(t, cache, repo.URL()))
	require.NoError(t, within(t, lockWait+lockSlack, "Refresh", func() error { return src.Refresh(ctx) }))
	assert.Equal(t, fixtureLogIDs(fixtures.StagingRootFile), rekorLogIDs(snapshot(t, src).Material))
	assert.NoError(t, src.LastError())
	after, err = os.ReadFile(filepath.Join(dir, "timestamp.json"))
	require.NoError(t, err)
	assert.NotEqual(t, cachedTimestamp, after, "with the lock, the update writes the cache")
}
