package main

import (
	"crypto/md5" //nolint:gosec // conda's md5, as explicit files carry it
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
)

// The attack review's set-up: the channel serves evil bytes at the package
// URL, and its record carries the legitimate sha256 (the one the real
// attestation names) with the evil file's md5. An explicit line that
// gives no sha256 must not pass, however it is written.
func TestVerifyEnvUnboundEntries(t *testing.T) {
	dir := t.TempDir()
	vc := newVirtualChannel(t, dir)
	ss, ch, url, root := vc.ss, vc.ch, vc.url, vc.root
	good, evil := []byte("the package the publisher built"), []byte("what the channel serves instead")
	hexOf := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	md5Of := func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) } //nolint:gosec
	const fn = "numpy-2.2-0.conda"
	ch.Add(t, condasigstest.Package{Filename: fn, Data: evil, RecordSHA256: hexOf(good),
		Bundles: [][]byte{ss.Bundle(t, kitIdentity, condasigstest.DefaultIssuer, condasigstest.Statement(fn, hexOf(good), url))}})
	honest := ch.Add(t, condasigstest.Package{Filename: "honest-1.0-0.conda", Signer: ss})
	swapped := url + "/linux-64/" + fn

	run := func(t *testing.T, line string, extra ...string) (int, string, string) {
		t.Helper()
		explicit := filepath.Join(t.TempDir(), "env.txt")
		require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+line+"\n"), 0o644))
		args := append([]string{"verify-env", "--trusted-root", root, "--identity", "https://github.com/example/*", "--issuer", "github", "--no-cache"}, extra...)
		return runCLI(t, append(args, explicit)...)
	}
	for name, line := range map[string]string{
		"no hash":                swapped,
		"md5 of the evil bytes":  swapped + "#" + md5Of(evil),
		"sha256 of the evil one": swapped + "#sha256:" + hexOf(evil),
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, line)
			assert.Equal(t, exitFail, code, out+errOut)
			if strings.Contains(line, "sha256:") {
				assert.Contains(t, out, "[lock-mismatch]")
				return
			}
			assert.Contains(t, out, "[lock-unbound]")
			assert.Contains(t, errOut, "--download-unhashed", "the hint names the way out")

			// Downloaded and hashed, the evil bytes are what they are.
			code, out, errOut = run(t, line, "--download-unhashed")
			assert.Equal(t, exitFail, code, out+errOut)
			assert.Contains(t, out, "[artifact-mismatch]")
		})
	}

	// An honest package on a hashless line passes once downloaded, and is
	// kept for installation when asked.
	keep := filepath.Join(dir, "downloads")
	code, out, errOut := run(t, url+"/linux-64/"+honest.Filename, "--download-unhashed", "--keep-downloads", keep)
	assert.Equal(t, exitOK, code, out+errOut)
	kept, err := os.ReadFile(filepath.Join(keep, "linux-64", honest.Filename))
	require.NoError(t, err)
	assert.Equal(t, honest.SHA256, hexOf(kept))

	code, _, errOut = run(t, url+"/linux-64/"+honest.Filename, "--keep-downloads", keep)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "give both")
}

// conda-lock install checks md5 hashes only: a conda-lock.yml binds the
// attestations only when its installer checks sha256, which the user says.
func TestVerifyEnvCondaLockInstaller(t *testing.T) {
	dir := t.TempDir()
	vc := newVirtualChannel(t, dir)
	rec := vc.ch.Add(t, condasigstest.Package{Filename: "honest-1.0-0.conda", Signer: vc.ss})
	lock := filepath.Join(dir, "conda-lock.yml")
	require.NoError(t, os.WriteFile(lock, []byte("version: 1\nmetadata:\n  content_hash: {}\n  channels: []\n  platforms: [linux-64]\n  sources: []\npackage:\n"+
		"- name: honest\n  version: '1.0'\n  manager: conda\n  platform: linux-64\n  dependencies: {}\n  url: "+vc.packageURL(rec.Filename)+
		"\n  hash:\n    md5: "+rec.MD5+"\n    sha256: "+rec.SHA256+"\n  category: main\n  optional: false\n"), 0o644))
	args := []string{"verify-env", "--trusted-root", vc.root, "--identity", "https://github.com/example/*", "--issuer", "github", "--no-cache"}

	code, out, errOut := runCLI(t, append(args, lock)...)
	assert.Equal(t, exitFail, code, out+errOut)
	assert.Contains(t, out, "[lock-unbound]")
	assert.Contains(t, errOut, "--installer-checks-sha256")

	code, out, errOut = runCLI(t, append(args, "--installer-checks-sha256", lock)...)
	assert.Equal(t, exitOK, code, out+errOut)
}
