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

// TestReadAheadNoProgress: a reader that returns (0, nil) 100 times is
// broken (io.ErrNoProgress), as the scanner and bufio say; the read-ahead
// must not spin on it forever.
func TestReadAheadNoProgress(t *testing.T) {
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

// TestReadAheadKeepsErrorWithFullChunk: a reader failure that comes with
// the bytes that fill a chunk exactly is kept (io.ReadAtLeast would drop
// it, and the document would read as whole).
func TestReadAheadKeepsErrorWithFullChunk(t *testing.T) {
	boom := io.ErrClosedPipe
	doc := []byte(`{"packages":{}}` + strings.Repeat(" ", 4096-15))
	ra := newReadAhead(&dataAndError{b: doc, err: boom}, 4096, 2)
	defer ra.Close()
	_, err := io.ReadAll(ra)
	if err != boom {
		t.Fatalf("read-ahead: error %v, want %v (the reader's failure with the last bytes)", err, boom)
	}
}
