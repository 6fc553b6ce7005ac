package trustroot_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/condasigs/condasigs/trustroot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrustedRootFileBounded: a trusted_root.json file is read under a cap
// (16 MiB, a thousand times a real one), and a device is never read: a
// path to a huge file or to /dev/zero costs no more memory than the cap.
func TestTrustedRootFileBounded(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "trusted_root.json")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(512<<20)) // sparse: no disk used
	require.NoError(t, f.Close())
	for _, paths := range [][]string{{huge}, {huge, huge}} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := trustroot.FromFile(paths[0], paths[1:]...)
		runtime.ReadMemStats(&after)
		assert.ErrorContains(t, err, "is larger than 16 MiB, far more than a trusted_root.json")
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(160<<20), "allocated while refusing %d files", len(paths))
	}
	if runtime.GOOS != "windows" {
		_, err := trustroot.FromFile("/dev/zero")
		assert.ErrorContains(t, err, "not a regular file")
	}
}
