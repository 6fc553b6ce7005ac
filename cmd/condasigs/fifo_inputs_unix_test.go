//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFIFOInputsNeverHang: a FIFO given as a trusted root, a TUF root, a
// policy file or a lock file (say, one another user planted at the path)
// is refused once no writer opened it in localfile.FIFOWait: the open
// never blocks for longer.
func TestFIFOInputsNeverHang(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	lock := filepath.Join(dir, "explicit.txt")
	require.NoError(t, os.WriteFile(lock, []byte("@EXPLICIT\n"+fileURL(t)+"\n"), 0o644))
	cases := map[string][]string{
		"trusted-root":        {"verify", "--trusted-root", fifo, "--identity", wfSAN, "--issuer", ghIssuer, "--timeout", "1s", "--channel", upstream, fileURL(t)},
		"second trusted-root": {"verify", "--trusted-root", trustedRoot, "--trusted-root", fifo, "--identity", wfSAN, "--issuer", ghIssuer, "--timeout", "1s", "--channel", upstream, fileURL(t)},
		"config":              {"verify", "--trusted-root", trustedRoot, "--config", fifo, "--timeout", "1s", fileURL(t)},
		"lockfile":            {"verify-env", "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", ghIssuer, "--timeout", "1s", "--no-cache", fifo},
		"tuf-root":            {"verify", "--tuf-url", "https://127.0.0.1:1/tuf", "--tuf-root", fifo, "--identity", wfSAN, "--issuer", ghIssuer, "--timeout", "1s", fileURL(t)},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, out := runCLIWithin(t, 3*localfile.FIFOWait, args...)
			assert.Equal(t, exitProblem, code, out)
			assert.NotContains(t, out, "PASS", out)
		})
	}
}
