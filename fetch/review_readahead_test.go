package fetch_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/condasigs/condasigs/fetch"
)

// TestReviewReadAheadKeeperRace: with Options.RepodataDir, the body the
// read-ahead goroutine reads is a keeper (repodatacache.go). When the scan
// fails early (a malformed document), findInDocument closes the read-ahead
// (which does not wait for its read in flight) and then body.Close, and
// keeper.Close drains the body with k.Read while the goroutine may still be
// inside k.Read: two goroutines write k.hash, k.meta.Size, k.tmp and
// k.failed at once. Run with -race.
func TestReviewReadAheadKeeperRace(t *testing.T) {
	pad := strings.Repeat(" ", 4096)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write([]byte(`{"packages":{"a-1-0.conda":{"name":1x`))
		_, _ = w.Write([]byte(strings.Repeat(" ", 300<<10)))
		w.(http.Flusher).Flush()
		// The rest trickles in, so the read-ahead is mid-read when the
		// scanner gives up; the drain gets it too.
		for range 40 {
			if _, err := w.Write([]byte(pad)); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(2 * time.Millisecond)
		}
	})
	for range 5 {
		c := newClient(t, fetch.Options{RepodataDir: t.TempDir(), RecordSources: []string{"repodata.json"}})
		_, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.conda"})
		if err == nil {
			t.Fatal("a malformed document passed")
		}
	}
}

// TestReviewReadAheadStalledKeeperDrain: a malformed document whose
// server then stalls (300 KiB sent, the connection held open). Before the
// read-ahead, the scan failed after 128 KiB and keeper.Close's drain found
// more than maxKeptTail waiting, gave up on keeping, and FindRecords
// returned at once (~10 ms). Now the read-ahead goroutine has taken all
// that was sent, so the drain blocks on the stalled server until the
// Client's Timeout (default 2 min) ends the request.
func TestReviewReadAheadStalledKeeperDrain(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		_, _ = w.Write([]byte(`{"packages":{"a-1-0.conda":{"name":1x`))
		_, _ = w.Write([]byte(strings.Repeat(" ", 300<<10)))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := newClient(t, fetch.Options{RepodataDir: t.TempDir(), RecordSources: []string{"repodata.json"}, Timeout: 8 * time.Second})
	t0 := time.Now()
	_, err := c.FindRecords(context.Background(), srv.URL+"/c/noarch/repodata.json", []string{"a-1-0.conda"})
	if err == nil {
		t.Fatal("a malformed document passed")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("a malformed document took %v (the Timeout) to fail: keeper.Close drains a stalled body the read-ahead already emptied", d)
	}
}
