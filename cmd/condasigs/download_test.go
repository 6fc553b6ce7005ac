package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
)

// The air-gapped round trip: download-sidecar on the connected side writes
// the sidecar as served, under its CEP 50 name; verify --bundle on the
// other side passes the package file against it.
func TestDownloadSidecarRoundTrip(t *testing.T) {
	vc := newVirtualChannel(t, t.TempDir())
	const fn = "good-1.0-0.conda"
	rec := vc.ch.Add(t, condasigstest.Package{Filename: fn, Signer: vc.ss})
	out := t.TempDir()

	code, stdout, stderr := runCLI(t, "download-sidecar", "--output-dir", out, vc.packageURL(fn))
	require.Equal(t, exitOK, code, stdout+stderr)
	name := fn + ".sigs." + rec.AttestationsSHA256
	assert.Equal(t, filepath.Join(out, name)+"\n", stdout)
	assert.Empty(t, stderr)
	written, err := os.ReadFile(filepath.Join(out, name))
	require.NoError(t, err)
	served, err := os.ReadFile(filepath.Join(vc.ch.Dir, "linux-64", name))
	require.NoError(t, err)
	assert.Equal(t, served, written, "written as it is")
	assert.Equal(t, 1, vc.ch.Requests("/linux-64/"+name))

	// The package file, carried with it, away from any channel.
	pkg := filepath.Join(t.TempDir(), fn)
	data, err := os.ReadFile(filepath.Join(vc.ch.Dir, "linux-64", fn))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pkg, data, 0o644))
	code, stdout, stderr = runCLI(t, "verify", "--trusted-root", vc.root, "--identity", "https://github.com/example/*", "--issuer", "github",
		"--channel", vc.url, "--bundle", filepath.Join(out, name), pkg)
	assert.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "PASS "+fn+"  verified")
	assert.Equal(t, 1, vc.ch.Requests("/linux-64/"+name), "verify --bundle requested nothing")
}

// What cannot be downloaded is said, per package, and nothing is written
// for it: a sidecar whose bytes are not the advertised ones, a package
// without attestations, an advertised sidecar the channel does not serve,
// a package the channel does not list. The others are written; the run
// fails. Credentials in the URLs are never printed.
func TestDownloadSidecarFailures(t *testing.T) {
	vc := newVirtualChannel(t, t.TempDir())
	vc.ch.Add(t, condasigstest.Package{Filename: "good-1.0-0.conda", Signer: vc.ss})
	vc.ch.Add(t, condasigstest.Package{Filename: "tampered-1.0-0.conda", Signer: vc.ss, TamperSidecar: true})
	vc.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	vc.ch.Add(t, condasigstest.Package{Filename: "gone-1.0-0.conda", Signer: vc.ss, NoSidecarFile: true})
	// A token segment and user information, which must not be printed.
	base := strings.Replace(vc.url, "http://", "http://user:hunter2@", 1) + "/t/tk-SECRET"
	pkgURL := func(fn string) string { return base + "/linux-64/" + fn + "?token=qSECRET" }

	for _, tc := range []struct{ fn, want string }{
		{"tampered-1.0-0.conda", "sidecar bytes hash to"},
		{"unsigned-1.0-0.conda", "its record has no attestations_sha256: the channel publishes no attestations for unsigned-1.0-0.conda, so there is no sidecar to download"},
		{"gone-1.0-0.conda", "the channel advertises a sidecar it does not serve"},
		{"absent-1.0-0.conda", "no record of the package (repodata.json)"},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := runCLI(t, "download-sidecar", "--record-source", "json", "-o", out, pkgURL("good-1.0-0.conda"), pkgURL(tc.fn))
			assert.Equal(t, exitProblem, code, stdout+stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Contains(t, stderr, "condasigs: "+vc.url+"/t/")
			assert.NotContains(t, stdout+stderr, "SECRET")
			assert.NotContains(t, stdout+stderr, "hunter2")
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the good package's sidecar is written")
			assert.True(t, strings.HasPrefix(entries[0].Name(), "good-1.0-0.conda.sigs."), entries[0].Name())
			assert.Equal(t, filepath.Join(out, entries[0].Name())+"\n", stdout)
		})
	}
}

// A hash mismatch writes nothing, and the message says what to do.
func TestDownloadSidecarHashMismatch(t *testing.T) {
	vc := newVirtualChannel(t, t.TempDir())
	rec := vc.ch.Add(t, condasigstest.Package{Filename: "tampered-1.0-0.conda", Signer: vc.ss, TamperSidecar: true})
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "download-sidecar", "-o", out, vc.packageURL("tampered-1.0-0.conda"))
	assert.Equal(t, exitProblem, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "repodata advertises "+rec.AttestationsSHA256)
	assert.Contains(t, stderr, "the channel serves other bytes than its repodata advertises; nothing was written")
	_, err := os.Stat(filepath.Join(out, "tampered-1.0-0.conda.sigs."+rec.AttestationsSHA256))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// --repodata gives the records; the sidecar still comes from the URL.
func TestDownloadSidecarRepodataFile(t *testing.T) {
	vc := newVirtualChannel(t, t.TempDir())
	rec := vc.ch.Add(t, condasigstest.Package{Filename: "good-1.0-0.conda", Signer: vc.ss})
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "download-sidecar", "--repodata", filepath.Join(vc.ch.Dir, "linux-64", "repodata.json"), "-o", out,
		vc.packageURL("good-1.0-0.conda"))
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Zero(t, vc.ch.Requests("/linux-64/repodata.json"), "the record came from --repodata")
	b, err := os.ReadFile(filepath.Join(out, "good-1.0-0.conda.sigs."+rec.AttestationsSHA256))
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	assert.Equal(t, rec.AttestationsSHA256, hex.EncodeToString(sum[:]))
}

// The CLI's --max-sidecar-size default is the library's.
func TestMaxSidecarSizeDefaultIsTheLibrarys(t *testing.T) {
	require.Equal(t, fetch.New(fetch.Options{}).MaxSidecarSize(), int64(defaultMaxSidecarSize))
}
