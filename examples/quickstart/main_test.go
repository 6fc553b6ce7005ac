package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runQuickstart runs the quickstart on dir and returns what it printed.
func runQuickstart(dir string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), &out, dir)
	return out.String(), err
}

// TestQuickstart verifies the real package of the local channel copy,
// offline, and checks what the quickstart prints (as README.md shows it).
func TestQuickstart(t *testing.T) {
	t.Parallel()
	out, err := runQuickstart(".")
	if err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out)
	}
	want := `signed-package-2.1.0-hb0f4dca_0.conda: pass (verified)
  signed by https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main
  issuer    https://token.actions.githubusercontent.com
  logged in https://rekor.sigstore.dev at index 456119071, 2025-09-01 12:13:59 UTC
  built from https://github.com/prefix-dev/sigstore-example at refs/heads/main
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestQuickstartTamperedPackage runs the quickstart on a copy of its
// directory whose package file lost a byte's worth of integrity: the
// attestation no longer names these bytes, and the run fails.
func TestQuickstartTamperedPackage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(".")); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "channel", "linux-64", filename)
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := runQuickstart(dir)
	if err == nil || !strings.Contains(err.Error(), "failed verification") {
		t.Fatalf("run: err = %v, want a verification failure\noutput:\n%s", err, out)
	}
	if !strings.HasPrefix(out, filename+": fail") || !strings.Contains(out, "error:") {
		t.Errorf("output does not report the failure and its reason:\n%s", out)
	}
}

// TestQuickstartWrongDir checks the hint given when the directory is wrong.
func TestQuickstartWrongDir(t *testing.T) {
	t.Parallel()
	out, err := runQuickstart(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "pass -dir") {
		t.Fatalf("run: err = %v, want the -dir hint", err)
	}
	if out != "" {
		t.Errorf("printed %q before failing", out)
	}
}
