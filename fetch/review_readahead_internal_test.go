package fetch

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// emptyReader returns (0, nil) forever, counting its calls.
// Once stopped (by the test, so that no goroutine spins past it), it
// returns io.EOF.
type emptyReader struct {
	calls atomic.Int64
	stop  atomic.Bool
}

func (e *emptyReader) Read([]byte) (int, error) {
	e.calls.Add(1)
	if e.stop.Load() {
		return 0, io.ErrUnexpectedEOF
	}
	return 0, nil
}

// TestReviewReadAheadNoProgress: the scanner gives up on a reader that
// returns (0, nil) 100 times (io.ErrNoProgress). The read-ahead calls
// io.ReadAtLeast, which has no such guard: its goroutine spins a core
// forever, Read never returns, and Close cannot stop it (ReadAtLeast
// never returns to look at ra.stop). FindRecords through a Client hangs
// where it used to fail.
func TestReviewReadAheadNoProgress(t *testing.T) {
	e := &emptyReader{}
	defer e.stop.Store(true)
	ra := newReadAhead(io.MultiReader(strings.NewReader(`{"packages":{`), e), 4096, 2)
	done := make(chan error, 1)
	go func() {
		_, err := FindRecords(ra, []string{"a.conda"})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a document cut short passed")
		}
	case <-time.After(3 * time.Second):
		ra.Close()
		n := e.calls.Load()
		time.Sleep(100 * time.Millisecond)
		t.Fatalf("FindRecords over the read-ahead did not return on a reader that makes no progress (%d empty reads, still spinning after Close: %v)", n, e.calls.Load() > n)
	}
	ra.Close()
}

// dataAndError returns all of b together with err in one Read, then
// io.EOF: an io.Reader may report an error with the last bytes it read.
type dataAndError struct {
	b    []byte
	err  error
	done bool
}

func (d *dataAndError) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	d.done = true
	return copy(p, d.b), d.err
}

// TestReviewReadAheadKeepsErrorWithFullChunk: io.ReadAtLeast drops the
// error of a read that fills the chunk ("if r returns an error having
// read at least min bytes, the error is dropped"), so a reader failure
// that comes with the bytes that fill a chunk exactly is lost, and the
// document reads as whole when the reader is not sticky about it. The
// scanner without the read-ahead keeps it.
func TestReviewReadAheadKeepsErrorWithFullChunk(t *testing.T) {
	boom := io.ErrClosedPipe
	doc := []byte(`{"packages":{}}` + strings.Repeat(" ", 4096-15))
	ra := newReadAhead(&dataAndError{b: doc, err: boom}, 4096, 2)
	defer ra.Close()
	_, err := io.ReadAll(ra)
	if err != boom {
		t.Fatalf("read-ahead: error %v, want %v (the reader's failure with the last bytes)", err, boom)
	}
}
