package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The largest --max-sidecar-size is a cap like any other: the --bundle
// file is read, not taken for empty (the cap plus one overflowed).
func TestVerifyBundleLargestSidecarCap(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, pkgName)
	data, err := os.ReadFile(filepath.Join(channelDir(t), "linux-64", pkgName))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pkg, data, 0o644))
	code, out, errOut := runCLI(t, verifyArgs("--channel", upstream, "--max-sidecar-size", strconv.FormatInt(math.MaxInt64, 10),
		"--bundle", filepath.Join(channelDir(t), "linux-64", pkgName+".sigs"), pkg)...)
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName+"  verified")
}
