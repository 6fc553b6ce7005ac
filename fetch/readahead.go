package fetch

import "io"

// Read-ahead of a repodata document over http(s): receiving a large
// document (the transport's system calls and copies) runs in a goroutine
// beside the scanner, instead of between its steps. Measured on loopback
// with a 124 MB document on two cores, it takes about 15 % off the whole
// read (BenchmarkPaddedChannel). It holds readAheadChunks+1 buffers of
// readAheadSize bytes: 768 KiB a document, beside the scan's own.
//
// It sits directly on the response body, below the size cap and the
// repodata cache's copy, which read from it in the caller's goroutine: the
// body has one reader, the goroutine, and everything above has one too.
const (
	readAheadSize   = 256 << 10
	readAheadChunks = 2
	// maxEmptyReads is how many reads that return nothing and no error
	// make a reader broken (io.ErrNoProgress), as bufio counts them.
	maxEmptyReads = 100
)

// readAhead reads r in a goroutine of its own, up to n chunks of size
// bytes ahead of its reader. Close stops it; the goroutine returns once
// its read in flight does (closing r ends that read), and closes done.
type readAhead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  chunk
	off  int
}

// chunk is what the goroutine read: bytes, then the error that ended them.
type chunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader, size, n int) *readAhead {
	ra := &readAhead{full: make(chan chunk, n), free: make(chan []byte, n+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range n + 1 {
		ra.free <- make([]byte, size)
	}
	go ra.fill(r)
	return ra
}

// fill reads r into free buffers and hands each over once full, or with
// the error that ended it (io.EOF included), until that error or Close.
func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		k, empty := 0, 0
		var err error
		for k < len(buf) && err == nil {
			var m int
			m, err = r.Read(buf[k:])
			k += m
			if m > 0 {
				empty = 0
			} else if err == nil {
				if empty++; empty >= maxEmptyReads {
					err = io.ErrNoProgress
				}
			}
			select {
			case <-ra.stop:
				return
			default:
			}
		}
		select {
		case ra.full <- chunk{b: buf[:k], err: err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read returns the bytes read ahead, then the error that ended them.
func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.b) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.b != nil {
			ra.free <- ra.cur.b[:cap(ra.cur.b)]
		}
		ra.cur, ra.off = <-ra.full, 0
	}
	k := copy(p, ra.cur.b[ra.off:])
	ra.off += k
	return k, nil
}

// Close stops the goroutine without waiting for its read in flight; close
// the underlying reader after it, then wait for done.
func (ra *readAhead) Close() { close(ra.stop) }
