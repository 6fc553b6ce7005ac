package trustroot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
