package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/condasigs/condasigs/policy"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pin with a pin file that is a symbolic link updates the target and
// keeps the link.
func TestPinThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "shared", "pins.json")
	require.NoError(t, os.Mkdir(filepath.Dir(target), 0o755))
	link := filepath.Join(dir, "pins.json")
	if err := os.Symlink(filepath.Join("shared", "pins.json"), link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("no symbolic links here: %v", err)
		}
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "pin", "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", "github", "--channel", upstream, "--pins", link, fileURL(t))
	require.Equal(t, exitOK, code, errOut)

	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the link stays a link")
	store, err := policy.LoadPins(target)
	require.NoError(t, err)
	_, ok := store.Get(upstream, "signed-package")
	assert.True(t, ok, "the target holds the pin")
}

// The pins another run recorded first are reported as changed signers.
func TestReportLostPins(t *testing.T) {
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetErr(&out)
	kept := policy.PinnedSigner{Issuer: "https://token.actions.githubusercontent.com", RepositoryID: "1", Repository: "https://github.com/o/first"}
	refused := policy.PinnedSigner{Issuer: "https://token.actions.githubusercontent.com", RepositoryID: "2", Repository: "https://github.com/o/second"}
	n := reportLostPins(cmd, &policy.PinConflictError{Path: "pins.json", Conflicts: []policy.PinConflict{{Channel: upstream, Package: "numpy", Kept: kept, Refused: refused}}})
	assert.Equal(t, 1, n)
	assert.Contains(t, out.String(), "signer changed: numpy on "+upstream+" was pinned to "+kept.String()+" by another run meanwhile, so it is not pinned to "+refused.String()+"; check it, then run again with --replace")
}
