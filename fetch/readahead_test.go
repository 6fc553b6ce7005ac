package fetch

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reading ahead gives the same bytes, then the error that ended them, in
// reads of any size.
func TestReadAhead(t *testing.T) {
	data := make([]byte, 1<<20+123)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data)), iotest.HalfReader(bytes.NewReader(data))} {
		ra := newReadAhead(r, 4096, 2)
		got, err := io.ReadAll(iotest.HalfReader(ra))
		require.NoError(t, err)
		assert.Equal(t, data, got)
		ra.Close()
	}
	boom := errors.New("boom")
	ra := newReadAhead(io.MultiReader(bytes.NewReader(data[:5000]), iotest.ErrReader(boom)), 4096, 2)
	got, err := io.ReadAll(ra)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, data[:5000], got, "the bytes before the error are read")
	ra.Close()

	ra = newReadAhead(bytes.NewReader(nil), 4096, 2)
	n, err := ra.Read(make([]byte, 10))
	assert.Zero(t, n)
	assert.Equal(t, io.EOF, err)
	ra.Close()
}

// Close returns at once, whatever the goroutine is doing; closing the
// reader after it ends the goroutine's read.
func TestReadAheadCloseDoesNotWait(t *testing.T) {
	pr, pw := io.Pipe()
	ra := newReadAhead(pr, 4096, 2)
	_, _ = pw.Write([]byte("abc")) // the goroutine reads it and waits for more
	done := make(chan struct{})
	go func() { ra.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a blocked read")
	}
	require.NoError(t, pr.Close()) // ends the read in flight
}
