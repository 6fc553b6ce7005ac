// Package testfs makes the directories and links of other users that
// tests of the cache-directory rule need. Changing owners needs root:
// tests skip what they cannot set up.
package testfs

import (
	"os"
	"testing"
)

// ForeignUID owns what "another user" made in these tests.
const ForeignUID = 12345

// MkdirMode makes a directory with exactly mode (no umask), and chowns it
// to uid unless uid is negative.
func MkdirMode(t testing.TB, path string, mode os.FileMode, uid int) string {
	t.Helper()
	must(t, os.MkdirAll(path, 0o700))
	must(t, os.Chmod(path, mode))
	if uid >= 0 {
		must(t, os.Chown(path, uid, uid))
	}
	return path
}

// Symlink makes link point to target, owned by uid unless uid is negative.
func Symlink(t testing.TB, target, link string, uid int) string {
	t.Helper()
	must(t, os.Symlink(target, link))
	if uid >= 0 {
		must(t, os.Lchown(link, uid, uid))
	}
	return link
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
