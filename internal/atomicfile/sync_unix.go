//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// syncDir syncs the directory dir of root, so that a rename in it is
// durable.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// isUnsupportedSync reports whether err is how some file systems say that
// they cannot sync a directory (ENOTSUP and the like are ErrUnsupported).
func isUnsupportedSync(err error) bool {
	return errors.Is(err, syscall.EINVAL)
}
