package condasigstest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/condasigs/condasigs/internal/atomicfile"
)

// defaultData is a package's bytes when the test gives none: deterministic,
// and different for every filename.
func defaultData(filename string) []byte {
	return []byte("condasigstest package " + filename + "\n")
}

// addSidecar writes p's sidecar files and returns the sidecar's sha256 and
// bytes (as advertised).
func (c *Channel) addSidecar(t testing.TB, p Package) (string, []byte) {
	t.Helper()
	side := p.Sidecar
	if side == nil {
		if p.Bundles == nil {
			t.Fatalf("condasigstest: %s: give Bundles or Sidecar, or set Unsigned", p.Filename)
		}
		side = sidecar(p.Bundles...)
	}
	sum := sha256.Sum256(side)
	digest := hex.EncodeToString(sum[:])
	c.write(t, p.Filename+".sigs", side)
	served := side
	if p.TamperSidecar {
		served = append([]byte(" "), side...) // other bytes, same meaning
	}
	if !p.NoSidecarFile {
		c.write(t, p.Filename+".sigs."+digest, served)
	}
	return digest, side
}

// remove removes a file of the subdir, if it exists.
func (c *Channel) remove(t testing.TB, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(c.Dir, c.Subdir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("condasigstest: %v", err)
	}
}

// write writes a file of the subdir atomically, so that a concurrent HTTP
// request never sees half of it.
func (c *Channel) write(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := atomicfile.WritePath(filepath.Join(c.Dir, c.Subdir, name), data, 0o644); err != nil {
		t.Fatalf("condasigstest: writing %s: %v", name, err)
	}
}
