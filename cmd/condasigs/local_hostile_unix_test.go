//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLIWithin runs the CLI and fails the test if it has not returned
// within d (the run is left behind: it hangs, which is the failure).
func runCLIWithin(t *testing.T, d time.Duration, args ...string) (int, string) {
	t.Helper()
	type result struct {
		code int
		out  string
	}
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		code := run(context.Background(), args, &out, &out)
		done <- result{code, out.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out
	case <-time.After(d):
		t.Fatalf("condasigs %v still runs after %s", args, d)
		return 0, ""
	}
}

// verify --bundle reads local files, which --timeout does not bound: a
// FIFO (as PACKAGE-FILE or as --bundle FILE) would block the open until a
// writer comes, and a device such as /dev/zero would be read without end.
// Each is refused at once, as a usage problem.
func TestVerifyBundleRefusesFIFOsAndDevices(t *testing.T) {
	dir := t.TempDir()
	sidecar := filepath.Join(channelDir(t), "linux-64", pkgName+".sigs")
	pkg := filepath.Join(dir, "pkgs", pkgName)
	require.NoError(t, os.MkdirAll(filepath.Dir(pkg), 0o755))
	data, err := os.ReadFile(filepath.Join(channelDir(t), "linux-64", pkgName))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pkg, data, 0o644))

	fifoPkg := filepath.Join(dir, "pkgs", "fifo-1.0-0.conda")
	fifoBundle := filepath.Join(dir, "fifo.json")
	for _, p := range []string{fifoPkg, fifoBundle} {
		require.NoError(t, syscall.Mkfifo(p, 0o600))
	}
	base := verifyArgs("--channel", upstream, "--timeout", "2s")
	cases := map[string][]string{
		"FIFO package file": append(append([]string{}, base...), "--bundle", sidecar, fifoPkg),
		"FIFO --bundle":     append(append([]string{}, base...), "--bundle", fifoBundle, pkg),
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		zeroPkg := filepath.Join(dir, "pkgs", "zero-1.0-0.conda")
		require.NoError(t, os.Symlink("/dev/zero", zeroPkg))
		cases["/dev/zero package"] = append(append([]string{}, base...), "--bundle", sidecar, zeroPkg)
		cases["/dev/zero as bundle"] = append(append([]string{}, base...), "--bundle", "/dev/zero", pkg)
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out := runCLIWithin(t, 20*time.Second, args...)
			assert.Equal(t, exitProblem, code, out)
			assert.Contains(t, out, "is not a regular file (a FIFO, a device or a socket)")
			assert.NotContains(t, out, "PASS")
		})
	}
	// The control: the regular file beside them passes.
	code, out := runCLIWithin(t, 60*time.Second, append(base, "--bundle", sidecar, pkg)...)
	assert.Equal(t, exitOK, code, out)
}

// --timeout is the overall time limit, and reading the package files is
// part of the run: a huge (here sparse) package file is not hashed past
// it, and the message says so.
func TestVerifyBundleTimeoutCoversHashing(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge-1.0-0.conda")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<40)) // 1 TiB, sparse: minutes of hashing
	require.NoError(t, f.Close())
	sidecar := filepath.Join(channelDir(t), "linux-64", pkgName+".sigs")
	start := time.Now()
	code, out := runCLIWithin(t, 30*time.Second, verifyArgs("--channel", upstream, "--timeout", "500ms", "--bundle", sidecar, huge)...)
	assert.Equal(t, exitProblem, code, out)
	assert.Contains(t, out, "huge-1.0-0.conda: context deadline exceeded: it took longer than --timeout")
	assert.NotContains(t, out, "PASS")
	assert.Less(t, time.Since(start), 20*time.Second)
}

// download-sidecar --repodata, and verify's --repodata and --artifact, are
// local files too: a FIFO is refused at once rather than waited on.
func TestRepodataAndArtifactRefuseFIFOs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "repodata.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	artifact := filepath.Join(dir, pkgName)
	require.NoError(t, syscall.Mkfifo(artifact, 0o600))
	for name, args := range map[string][]string{
		"download-sidecar --repodata": {"download-sidecar", "--repodata", fifo, "-o", t.TempDir(), fileURL(t)},
		"verify --repodata":           verifyArgs("--channel", upstream, "--repodata", fifo, fileURL(t)),
		"verify --artifact":           verifyArgs("--channel", upstream, "--artifact", artifact, fileURL(t)),
	} {
		t.Run(name, func(t *testing.T) {
			code, out := runCLIWithin(t, 20*time.Second, args...)
			assert.Equal(t, exitProblem, code, out)
			assert.Contains(t, out, "is not a regular file (a FIFO, a device or a socket)")
		})
	}
}

// The --repodata record source opens its file again when records are
// read: a FIFO swapped in after the flag check is refused, not waited on.
func TestFileRecordsRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "repodata.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := fileRecords{path: fifo}.FindRecords(context.Background(), "", []string{pkgName})
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, localfile.ErrNotRegular)
	case <-time.After(20 * time.Second):
		t.Fatal("reading records from a FIFO still waits for a writer")
	}
}
