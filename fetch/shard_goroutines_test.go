package fetch

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condasigs/condasigs/internal/cep16"
)

// TestShardJobsGoroutinesBounded: a lock file listing n distinct names of
// one subdir of a hostile channel, whose index gives each a distinct
// hash, with shards served slowly, as a hostile server may: the
// goroutines, and their stacks, are bounded by shardsPerCall, not by the
// number of shards the names need.
func TestShardJobsGoroutinesBounded(t *testing.T) {
	const n = 20_000
	names := make([]string, n)
	for i := range n {
		names[i] = "p" + strconv.FormatInt(int64(i), 36)
	}
	b := shardIndexOf(names, func(name string) []byte { // a shard each
		sum := sha256.Sum256([]byte(name))
		return sum[:]
	})
	z := cep16.Compress(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/"+shardIndexFile) {
			_, _ = w.Write(z)
			return
		}
		select { // a slow shard
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	files := make([]string, n)
	for i, name := range names {
		files[i] = name + "-1-0.conda"
	}
	c := newShardClient(t, Options{RecordSources: []string{"repodata_shards.msgpack.zst"}})
	base := runtime.NumGoroutine()
	var most atomic.Int64
	var mostStack atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if g := int64(runtime.NumGoroutine()); g > most.Load() {
				most.Store(g)
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				mostStack.Store(m.StackInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _ = c.FindRecords(ctx, srv.URL+"/chan/linux-64/repodata.json", files)
	close(stop)
	<-done
	extra := most.Load() - int64(base)
	t.Logf("%d names: up to %d goroutines at once, stacks %d MiB", n, extra, mostStack.Load()>>20)
	if extra > 200 {
		t.Errorf("%d goroutines for %d distinct shards: not bounded by shardsPerCall (%d)", extra, n, shardsPerCall)
	}
}
