//go:build unix

package fetch_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/condasigs/condasigs/fetch"
	"github.com/stretchr/testify/assert"
)

// TestOpenFileNotRegular: a FIFO at the path must not block the read.
func TestOpenFileNotRegular(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "x.conda.sigs")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	c := fetch.New(fetch.Options{AllowFile: true})
	done := make(chan error, 1)
	go func() {
		_, err := c.Open(context.Background(), "file://"+filepath.ToSlash(fifo), 100)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, fetch.KindNotFound)
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
}

// TestCachesIgnoreFIFOs: a FIFO planted in a cache directory is a miss,
// at once, for the sidecar cache and for kept repodata.
func TestCachesIgnoreFIFOs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cache := mustDirCache(t, dir) // opened before the FIFO is planted
	key := digestOf([]byte("x"))
	sub := filepath.Join(dir, key[:2])
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(sub, key), 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := cache.Get(context.Background(), key)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, fetch.ErrCacheMiss)
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO in the cache blocked")
	}

	// Kept repodata: plant a FIFO where the copy would be, then open.
	srv := newRepodataServer(t, doc1, `"v1"`)
	repodata := t.TempDir()
	c := newClient(t, fetch.Options{RepodataDir: repodata})
	u := srv.URL + "/c/noarch/repodata.json"
	readAll(t, c, u)
	kept := cacheFiles(t, repodata)[0]
	if err := os.Remove(kept); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(kept, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() { got <- readAll(t, c, u) }()
	select {
	case s := <-got:
		assert.Equal(t, doc1, s, "downloaded again")
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO as kept repodata blocked")
	}
}
