package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
)

// download-sidecar names the file it writes after the package URL's file
// name. One that is not a conda package file name is refused before
// anything is fetched: a backslash, a separator on Windows, would put the
// file in a subdirectory of --output-dir, and verify --bundle refuses such
// a name anyway, so the sidecar could never be used.
func TestDownloadSidecarRefusesNonPackageFileNames(t *testing.T) {
	vc := newVirtualChannel(t, t.TempDir())
	const fn = `sub\evil-1.0-0.conda`
	vc.ch.Add(t, condasigstest.Package{Filename: fn, Signer: vc.ss})
	for _, u := range []string{
		vc.url + "/linux-64/sub%5Cevil-1.0-0.conda",
		vc.url + "/linux-64/evil-1.0-0.txt",
	} {
		out := t.TempDir()
		code, stdout, stderr := runCLI(t, "download-sidecar", "-o", out, u)
		assert.Equal(t, exitProblem, code, stdout+stderr)
		assert.Contains(t, stderr, "is not a conda package file name")
		assert.Empty(t, stdout)
		entries, err := os.ReadDir(out)
		require.NoError(t, err)
		assert.Empty(t, entries, "nothing is written")
	}
	assert.Zero(t, vc.ch.Requests("/linux-64/repodata.json"), "nothing is fetched")
}
