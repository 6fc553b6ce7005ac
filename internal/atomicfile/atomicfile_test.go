package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemp fails if a temporary file is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Fatalf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// WriteFile creates a file, and replaces one, leaving no temporary file.
func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	root := openRoot(t, dir)
	for _, content := range []string{"one", "two, longer", ""} {
		if err := WriteFile(root, "f", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := read(t, filepath.Join(dir, "f")); got != content {
			t.Fatalf("content %q, want %q", got, content)
		}
	}
	noTemp(t, dir)
}

// The file gets exactly the mode asked for, whatever the umask; it is
// private (0600) while it is written.
func TestWriteFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix modes")
	}
	dir := t.TempDir()
	root := openRoot(t, dir)
	for _, perm := range []fs.FileMode{0o600, 0o644, 0o640} {
		if err := WriteFile(root, "f", []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "f"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != perm {
			t.Fatalf("mode %s, want %s", fi.Mode().Perm(), perm)
		}
	}
	tmp, err := Create(root, "g", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Discard(root)
	fi, err := root.Lstat(tmp.tmp)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("the temporary file has mode %s while it is written", fi.Mode().Perm())
	}
}

// A write that fails leaves no temporary file, and the old content in
// place: a Temp discarded after a write error, a rename that cannot be
// made, and a directory that does not exist.
func TestFailedWriteKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	root := openRoot(t, dir)
	if err := WriteFile(root, "f", []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}

	tmp, err := Create(root, "f", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("half of the n")); err != nil {
		t.Fatal(err)
	}
	tmp.Discard(root) // as a writer does when its source fails
	if err := tmp.Commit(root); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Commit after Discard: %v", err)
	}
	if _, err := tmp.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Discard: %v", err)
	}
	if got := read(t, filepath.Join(dir, "f")); got != "old" {
		t.Fatalf("content %q after a discarded write", got)
	}
	noTemp(t, dir)

	// A non-empty directory at the final name cannot be renamed over.
	if err := os.MkdirAll(filepath.Join(dir, "d", "child"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(root, "d", []byte("new"), 0o600); err == nil {
		t.Fatal("renamed over a non-empty directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "child")); err != nil {
		t.Fatalf("the directory was harmed: %v", err)
	}
	noTemp(t, dir)

	if err := WriteFile(root, filepath.Join("missing", "f"), []byte("new"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("writing into a missing directory: %v", err)
	}
	noTemp(t, dir)
}

// CommitNew never replaces: the old file stays, and the temporary file is
// removed either way.
func TestCommitNew(t *testing.T) {
	dir := t.TempDir()
	root := openRoot(t, dir)
	for _, want := range []string{"first", "second"} {
		tmp, err := Create(root, "f", 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write([]byte(want)); err != nil {
			t.Fatal(err)
		}
		if err := tmp.Close(); err != nil { // synced and closed: no descriptor held
			t.Fatal(err)
		}
		err = tmp.CommitNew(root)
		if want == "first" && err != nil || want == "second" && !errors.Is(err, fs.ErrExist) {
			t.Fatalf("CommitNew of %q: %v", want, err)
		}
		noTemp(t, dir)
	}
	if got := read(t, filepath.Join(dir, "f")); got != "first" {
		t.Fatalf("content %q, want the first", got)
	}
}

// Writes go through the root: a name cannot leave it, and a symbolic link
// at the final name is replaced, not written through.
func TestThroughRoot(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	root := openRoot(t, dir)
	if err := WriteFile(root, filepath.Join("sub", "f"), []byte("in sub"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "sub", "f")); got != "in sub" {
		t.Fatalf("content %q", got)
	}
	noTemp(t, filepath.Join(dir, "sub"))
	if err := WriteFile(root, filepath.Join("..", filepath.Base(outside), "f"), []byte("escaped"), 0o600); err == nil {
		t.Fatal("wrote outside the root")
	}

	target := filepath.Join(outside, "target")
	if err := os.WriteFile(target, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "link")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(root, "link", []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := read(t, target); got != "theirs" {
		t.Fatalf("wrote through the link: %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "link")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the link was not replaced by a file: %v %v", fi, err)
	}
	if err := WriteFile(root, filepath.Join("linkdir", "f"), []byte("escaped"), 0o600); err == nil {
		t.Fatal("followed a link out of the root")
	}
	if _, err := os.Stat(filepath.Join(outside, "f")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file landed outside the root: %v", err)
	}
}

// WritePath writes by path, replacing a link at it rather than following.
func TestWritePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"a", "b"} {
		if err := WritePath(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := read(t, path); got != content {
			t.Fatalf("content %q, want %q", got, content)
		}
	}
	noTemp(t, dir)
	if err := WritePath(filepath.Join(dir, "missing", "f"), nil, 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WritePath into a missing directory: %v", err)
	}
}

// WriteAt fills in a header after the rest is written.
func TestWriteAt(t *testing.T) {
	dir := t.TempDir()
	root := openRoot(t, dir)
	tmp, err := Create(root, "f", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("....body")); err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.WriteAt([]byte("head"), 0); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Commit(root); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "f")); got != "headbody" {
		t.Fatalf("content %q", got)
	}
	if err := tmp.Commit(root); err == nil {
		t.Fatal("committed twice")
	}
}
