package fetch

import (
	"errors"
	"os"
)

// errNotRegular is returned by openRegular for a FIFO, a device, a
// directory or a socket.
var errNotRegular = errors.New("not a regular file")

// openRegular opens path for reading only if it is a regular file. The
// open itself never blocks (a FIFO would wait for a writer), and the check
// is made on the opened file, so that it cannot be swapped in between.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
