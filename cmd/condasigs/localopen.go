package main

import (
	"errors"
	"os"
)

// errNotRegular is openRegularFile's error for a FIFO, a device or a
// socket.
var errNotRegular = errors.New("not a regular file (a FIFO, a device or a socket)")

// openRegularFile opens path for reading, following symbolic links, if it
// is a regular file or a directory (which the caller refuses with its own
// message). The open never blocks (a FIFO would wait for a writer, and
// --timeout does not cover reading local files), and the check is made on
// the opened file, so that it cannot be swapped in between; a device such
// as /dev/zero, which would be read without end, is refused too.
func openRegularFile(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonblockOpen, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
