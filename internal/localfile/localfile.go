// Package localfile opens local files that condasigs reads whole (a
// file:// channel's documents, repodata and package files given on the
// command line) without blocking on FIFOs and without reading devices.
package localfile

import (
	"errors"
	"io/fs"
	"os"
)

// ErrNotRegular is Open's error for a FIFO, a device or a socket.
var ErrNotRegular = errors.New("not a regular file (a FIFO, a device or a socket)")

// Open opens path for reading, following symbolic links, if it is a
// regular file or a directory (which callers refuse with their own
// message). The open never blocks (a FIFO would wait for a writer), and
// the check is made on the opened file, so that nothing can be swapped in
// between; a device such as /dev/zero, which would be read without end,
// is refused.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|Nonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		err = ErrNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
