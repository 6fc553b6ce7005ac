package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

// The attack of issue 12: a repodata.json of about 1 MB, sent with
// Content-Encoding: gzip, that decodes to a document holding a 1000 MiB
// string somewhere. It must fail within seconds, holding little memory.
const (
	hugeFill     = 1000 << 20 // the decoded length of the huge string
	attackBudget = 100 << 20  // the most the process may grow by
	attackTime   = 5 * time.Second
)

// gzipServer answers every request with Content-Encoding: gzip and a body
// that decodes to prefix, n bytes of fill and suffix, compressed as it is
// sent: the decoded document is never held. It stops when the client goes
// away, and counts the decoded bytes it sent.
func gzipServer(t *testing.T, prefix string, fill byte, n int64, suffix string) (*testServer, *atomic.Int64) {
	t.Helper()
	var sent atomic.Int64
	chunk := bytes.Repeat([]byte{fill}, 64<<10)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err != nil {
			t.Error(err)
			return
		}
		write := func(b []byte) bool {
			if r.Context().Err() != nil {
				return false
			}
			_, err := zw.Write(b)
			sent.Add(int64(len(b)))
			return err == nil
		}
		if !write([]byte(prefix)) {
			return
		}
		for left := n; left > 0; left -= int64(len(chunk)) {
			if !write(chunk[:min(left, int64(len(chunk)))]) {
				return
			}
		}
		if write([]byte(suffix)) {
			_ = zw.Close()
		}
	})
	return srv, &sent
}

// memoryWatch samples the Go runtime's memory while a test runs.
type memoryWatch struct {
	stop, done chan struct{}
	base       memorySample
	peak       memorySample
}

// memorySample is what runtime/metrics says of the process's memory:
// heap objects, all memory the runtime holds in use (mapped and not
// released: what of the resident set the Go runtime accounts for), and
// the bytes allocated so far.
type memorySample struct{ objects, inUse, allocs uint64 }

var memoryMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/heap/allocs:bytes",
}

func readMemory(samples []metrics.Sample) memorySample {
	metrics.Read(samples)
	v := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	return memorySample{objects: v(0), inUse: v(1) - v(2), allocs: v(3)}
}

// watchMemory starts sampling every millisecond, from a collected heap.
func watchMemory() *memoryWatch {
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, name := range memoryMetrics {
		samples[i].Name = name
	}
	debug.FreeOSMemory() // what earlier tests left mapped is not counted
	m := &memoryWatch{stop: make(chan struct{}), done: make(chan struct{})}
	m.base = readMemory(samples)
	m.peak = m.base
	go func() {
		defer close(m.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			s := readMemory(samples)
			m.peak.objects = max(m.peak.objects, s.objects)
			m.peak.inUse = max(m.peak.inUse, s.inUse)
			m.peak.allocs = s.allocs
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// growth stops the sampling and returns how much the heap objects and
// the memory in use grew at their peaks, and the bytes allocated meanwhile
// (a bound on the heap's growth that no sampling can miss).
func (m *memoryWatch) growth() (objects, inUse, allocated uint64) {
	close(m.stop)
	<-m.done
	sub := func(a, b uint64) uint64 { return max(a, b) - b }
	return sub(m.peak.objects, m.base.objects), sub(m.peak.inUse, m.base.inUse), sub(m.peak.allocs, m.base.allocs)
}

// TestHugeValueFailsFastInLittleMemory is the attack of issue 12 in each of
// its places: every one fails as malformed within attackTime, and the
// process grows by less than attackBudget, measured with runtime/metrics.
// It does not run in parallel, so that only its own allocations count.
func TestHugeValueFailsFastInLittleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams up to a gigabyte")
	}
	for _, tt := range []struct {
		name, prefix, suffix string
		fill                 byte
		// want is in the error's text.
		want string
	}{
		{"record field", `{"packages":{"a-1-0.tar.bz2":{"name":"`, `"}}}`, 'x', "may keep"},
		{"unknown key of a record", `{"packages":{"a-1-0.tar.bz2":{"name":"a","license":"`, `"}}}`, 'x', "1048576 bytes"},
		{"nested in a record", `{"packages.conda":{"a-1-0.conda":{"depends":[{"x":["`, `"]}]}}}`, 'x', "1048576 bytes"},
		{"white space in a record", `{"packages":{"a-1-0.tar.bz2":{"name":"a"`, `}}}`, ' ', "1048576 bytes"},
		{"number in a record", `{"packages":{"a-1-0.tar.bz2":{"size":1`, `}}}`, '0', "1048576 bytes"},
		{"file name", `{"packages":{"`, `":{}}}`, 'x', "file name longer"},
		{"info.subdir", `{"info":{"subdir":"`, `"}}`, 'x', "subdir: longer"},
		{"info key skipped", `{"info":{"subdir":"linux-64","base_url":"`, `"}}`, 'x', "1048576 bytes"},
		{"top-level key skipped", `{"packages":{},"signatures":"`, `"}`, 'x', "1048576 bytes"},
		{"removed", `{"removed":["`, `"]}`, 'x', "1048576 bytes"},
		{"top-level number", `{"repodata_version":1`, `}`, '0', "1048576 bytes"},
		{"top-level key", `{"`, `":1}`, 'x', "key longer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, sent := gzipServer(t, tt.prefix, tt.fill, hugeFill, tt.suffix)
			c := newClient(t, fetch.Options{})
			watch := watchMemory()
			start := time.Now()
			body, err := c.OpenRepodata(context.Background(), srv.URL+"/chan/linux-64/repodata.json")
			require.NoError(t, err)
			recs := 0
			err = fetch.ScanRepodata(body, func(fetch.Record) bool { recs++; return true })
			require.NoError(t, body.Close())
			elapsed := time.Since(start)
			objects, inUse, allocated := watch.growth()
			t.Logf("%s: failed after %v and %d MiB sent; heap objects grew by %.1f MiB at most, runtime memory in use by %.1f MiB, %.1f MiB allocated",
				tt.name, elapsed.Round(time.Millisecond), sent.Load()>>20, mib(objects), mib(inUse), mib(allocated))

			fe := requireKind(t, err, fetch.KindMalformed)
			assert.Contains(t, fe.Error(), tt.want)
			assert.Zero(t, recs)
			assert.Less(t, elapsed, attackTime)
			assert.Less(t, objects, uint64(attackBudget), "heap objects")
			assert.Less(t, inUse, uint64(attackBudget), "runtime memory in use")
			assert.Less(t, allocated, uint64(attackBudget), "bytes allocated")
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestHugeValueWithRepodataDirIsNotKept: with Options.RepodataDir, the
// attack fails as fast and in as little memory, and Close neither reads
// the rest of the body nor keeps a copy of it.
func TestHugeValueWithRepodataDirIsNotKept(t *testing.T) {
	if testing.Short() {
		t.Skip("streams up to a gigabyte")
	}
	srv, sent := gzipServer(t, `{"packages":{"a-1-0.tar.bz2":{"name":"a","license":"`, 'x', hugeFill, `"}}}`)
	srv.Config.Handler = withETag(srv.Config.Handler)
	dir := t.TempDir()
	c := newClient(t, fetch.Options{RepodataDir: dir})
	watch := watchMemory()
	start := time.Now()
	body, err := c.OpenRepodata(context.Background(), srv.URL+"/chan/linux-64/repodata.json")
	require.NoError(t, err)
	err = fetch.ScanRepodata(body, func(fetch.Record) bool { return true })
	require.NoError(t, body.Close())
	elapsed := time.Since(start)
	objects, inUse, allocated := watch.growth()
	t.Logf("failed after %v and %d MiB sent; heap objects grew by %.1f MiB at most, runtime memory in use by %.1f MiB, %.1f MiB allocated",
		elapsed.Round(time.Millisecond), sent.Load()>>20, mib(objects), mib(inUse), mib(allocated))
	requireKind(t, err, fetch.KindMalformed)
	assert.Less(t, elapsed, attackTime)
	assert.Less(t, sent.Load(), int64(64<<20), "Close read the rest of the body")
	assert.Less(t, objects, uint64(attackBudget))
	assert.Less(t, allocated, uint64(attackBudget))
	assert.Empty(t, cacheFiles(t, dir), "a copy of the document, or its temporary file, is left")
}

// withETag adds an ETag to every response of h, so that the client keeps
// what it reads.
func withETag(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		h.ServeHTTP(w, r)
	})
}

// TestParallelScansStayBounded: scans at once of documents whose records
// are as large as the caps allow hold less than the documented 512 KiB
// each. All scans stop in their callbacks at the same record, where the
// live heap is measured after a collection.
func TestParallelScansStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("scans 64 documents at once")
	}
	for shape, name := range []string{"most keys", "longest strings", "most skipped bytes", "longest skipped string"} {
		t.Run(name, func(t *testing.T) { parallelScans(t, shape) })
	}
}

func parallelScans(t *testing.T, shape int) {
	const scans = 64
	stops := []int{3, 9, 15}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	measure := func() uint64 {
		runtime.GC()
		metrics.Read(live)
		return live[0].Value.Uint64()
	}
	base := measure()
	arrived := make([]sync.WaitGroup, len(stops))
	release := make([]chan struct{}, len(stops))
	for i := range stops {
		arrived[i].Add(scans)
		release[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	errs := make([]error, scans)
	for i := range scans {
		wg.Go(func() {
			n, round := 0, 0
			errs[i] = fetch.ScanRepodata(newWideRecords(shape, 16), func(fetch.Record) bool {
				n++
				if round < len(stops) && n == stops[round] {
					arrived[round].Done()
					<-release[round]
					round++
				}
				return true
			})
			for ; round < len(stops); round++ { // a failed scan lets the others go on
				arrived[round].Done()
			}
		})
	}
	var grown uint64
	for i := range stops {
		arrived[i].Wait()
		grown = max(grown, max(measure(), base)-base)
		close(release[i])
	}
	wg.Wait()
	t.Logf("%d scans: the live heap grew by %.1f MiB at most (%.0f KiB a scan)", scans, mib(grown), float64(grown)/scans/1024)
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Less(t, grown, uint64(scans*512<<10))
}

// wideRecords generates, as it is read, a repodata.json of n records as
// large as the caps allow, in one of three shapes: the most keys, the
// longest kept strings, the most skipped bytes under fresh keys in each
// record, or the longest skipped string. It holds one record's pieces, the
// long ones shared by all.
type wideRecords struct {
	shape, left, i int
	pieces         []string
	off            int
}

var (
	wideKey   = strings.Repeat("y", 3000)
	wideValue = strings.Repeat("z", 60<<10)
	wideName  = strings.Repeat("n", 30<<10)
	wideLong  = strings.Repeat("l", fetch.MaxRecordSize-200)
)

func newWideRecords(shape, n int) *wideRecords {
	return &wideRecords{shape: shape, left: n, pieces: []string{`{"info":{"subdir":"linux-64"},"packages.conda":{`}}
}

func (w *wideRecords) Read(p []byte) (int, error) {
	for len(w.pieces) > 0 && w.off == len(w.pieces[0]) {
		w.pieces, w.off = w.pieces[1:], 0
	}
	if len(w.pieces) == 0 {
		if w.left < 0 {
			return 0, io.EOF
		}
		w.next()
	}
	n := copy(p, w.pieces[0][w.off:])
	w.off += n
	return n, nil
}

func (w *wideRecords) next() {
	if w.left == 0 {
		w.left--
		w.pieces = append(w.pieces, `}}`)
		return
	}
	w.left--
	w.i++
	sep := ""
	if w.i > 1 {
		sep = ","
	}
	w.pieces = append(w.pieces, fmt.Sprintf(`%s"%s%d.conda":{`, sep, strings.Repeat("f", 100), w.i))
	switch w.shape {
	case 0: // the most keys
		var b strings.Builder
		for k := range 900 {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%x":0`, w.i*1000+k)
		}
		w.pieces = append(w.pieces, b.String())
	case 1: // the longest kept strings
		w.pieces = append(w.pieces, `"name":"`, wideName, `","version":"`, wideName, `"`)
	case 3: // the longest skipped string
		w.pieces = append(w.pieces, `"license":"`, wideLong, `"`)
	default: // the most skipped bytes, under fresh keys
		for k := range 15 {
			if k > 0 {
				w.pieces = append(w.pieces, `,`)
			}
			w.pieces = append(w.pieces, `"`, wideKey, fmt.Sprintf(`%d":"`, w.i*16+k), wideValue, `"`)
		}
	}
	w.pieces = append(w.pieces, `}`)
}

// TestFindRecordHoldsOneRecord: a document listing the file name a million
// times makes FindRecord fail as malformed, holding one record, not a
// million. The reader measures the live heap as it goes.
func TestFindRecordHoldsOneRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million records")
	}
	const copies = 1_000_000
	r := &heapProbe{r: &repeated{head: `{"packages.conda":{`, body: `"x-1-0.conda":{"name":"x","version":"1","build":"0"},`, n: copies, tail: `"y-1-0.conda":{}}}`}}
	r.start()
	_, err := findRecord(r, "x-1-0.conda")
	grown := r.peak - min(r.peak, r.base)
	t.Logf("the live heap grew by %.1f MiB at most, over %d measures", mib(grown), r.probes)
	fe := requireKind(t, err, fetch.KindMalformed)
	assert.Contains(t, fe.Error(), "1000000 times")
	assert.Less(t, grown, uint64(8<<20))
}

// repeated reads head, n copies of body, then tail.
type repeated struct {
	head, body, tail string
	n                int
	off              int
	part             int
}

func (r *repeated) Read(p []byte) (int, error) {
	for {
		var cur string
		switch {
		case r.part == 0:
			cur = r.head
		case r.part <= r.n:
			cur = r.body
		case r.part == r.n+1:
			cur = r.tail
		default:
			return 0, io.EOF
		}
		if r.off < len(cur) {
			n := copy(p, cur[r.off:])
			r.off += n
			return n, nil
		}
		r.part, r.off = r.part+1, 0
	}
}

// heapProbe measures the live heap after a collection every 2 MiB read.
type heapProbe struct {
	r          io.Reader
	read, next int64
	base, peak uint64
	probes     int
	samples    []metrics.Sample
}

func (h *heapProbe) start() {
	h.samples = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	h.base = h.measure()
}

func (h *heapProbe) measure() uint64 {
	runtime.GC()
	metrics.Read(h.samples)
	h.probes++
	return h.samples[0].Value.Uint64()
}

func (h *heapProbe) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.read += int64(n)
	if h.read >= h.next {
		h.peak = max(h.peak, h.measure())
		h.next = h.read + 2<<20
	}
	return n, err
}
