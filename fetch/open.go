package fetch

import (
	"os"

	"github.com/condasigs/condasigs/internal/localfile"
)

// errNotRegular is returned by openRegular for a FIFO, a device, a
// directory or a socket.
var errNotRegular = localfile.ErrNotRegular

// nonblock opens FIFOs without waiting for a writer.
const nonblock = localfile.Nonblock

// openRegular opens path for reading only if it is a regular file (see
// localfile.Open).
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, fi, err := localfile.Open(path)
	if err == nil && fi.IsDir() {
		f.Close()
		return nil, nil, errNotRegular
	}
	return f, fi, err
}
