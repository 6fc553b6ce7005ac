package fetch_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/condasigs/condasigs/fetch"
)

// TestReadAheadKeeperRace: with Options.RepodataDir, the repodata cache's
// copy (repodatacache.go) reads the body while the read-ahead goroutine
// may be mid-read when the scan fails early (a malformed document). The
// read-ahead sits below the copy, so the body has one reader: run with
// -race (an attack review found the race when it sat above).
func TestReadAheadKeeperRace(t *testing.T) {
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

// TestReadAheadStalledKeeperDrain: a malformed document whose server then
// stalls (300 KiB sent, the connection held open) fails at once: the
// cache's drain on Close finds more than it keeps waiting in the
// read-ahead and gives up, instead of waiting on the stalled server until
// the Client's Timeout.
func TestReadAheadStalledKeeperDrain(t *testing.T) {
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
