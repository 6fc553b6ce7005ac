package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/lockfile"
)

// A lock file of a channel per package is refused with --channel in time
// linear in its packages: 200,000 of them (a few MiB of explicit lock
// file) took minutes when each channel was searched for in a list.
func TestEnvChannelManyChannels(t *testing.T) {
	pkgs := make([]lockfile.Package, 200_000)
	for i := range pkgs {
		pkgs[i].URL = fmt.Sprintf("https://example.com/c%07d/linux-64/a-1-0.conda", i)
	}
	start := time.Now()
	err := checkEnvChannel("env.txt", "https://example.com/c", pkgs)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "env.txt has packages of 200000 channels (https://example.com/c0000000, https://example.com/c0000001, https://example.com/c0000002, ...)")
	assert.Less(t, elapsed, 20*time.Second)

	// One channel, however spelled with credentials, is one channel.
	one := []lockfile.Package{{URL: "https://u:p@example.com/c/linux-64/a-1-0.conda"}, {URL: "https://example.com/c/noarch/b-1-0.conda?x=1"}}
	assert.NoError(t, checkEnvChannel("env.txt", "https://example.com/c", one))
	// Credentials are never printed.
	two := append(one, lockfile.Package{URL: "https://u:secret@example.com/d/linux-64/a-1-0.conda"})
	err = checkEnvChannel("env.txt", "https://example.com/c", two)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
}

// A --channel that is not a URL is quoted in its message without the
// credentials it may hold, in verify and verify-env alike.
func TestChannelNotURLRedacted(t *testing.T) {
	for _, tc := range []struct{ in, shown string }{
		{"user:secret@prefix.dev/x", "prefix.dev/x"},
		{"https:user:secret@prefix.dev/x", "prefix.dev/x"},
		{"prefix.dev/x?token=secret", "prefix.dev/x?REDACTED"},
		{"prefix.dev/t/secret/x", "prefix.dev/t/REDACTED/x"},
		{"sec ret@host", "REDACTED"},
		{"conda-forge", "conda-forge"},
		{"not a url", "not a url"},
	} {
		assert.Equal(t, tc.shown, redactNonURL(tc.in), tc.in)
	}
	env := filepath.Join(t.TempDir(), "env.txt")
	require.NoError(t, os.WriteFile(env, []byte("@EXPLICIT\n"+fileURL(t)+"#54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f\n"), 0o644))
	for _, args := range [][]string{
		{"verify", "--identity", "x", "--issuer", "github", "--channel", "user:secret@prefix.dev/x", "file:///c/noarch/a-1-0.conda"},
		{"verify-env", "--identity", "x", "--issuer", "github", "--no-cache", "--channel", "user:secret@prefix.dev/x", env},
	} {
		code, out, errOut := runCLI(t, args...)
		assert.Equal(t, exitProblem, code, out+errOut)
		assert.Contains(t, errOut, `--channel "prefix.dev/x" is not an http, https or file URL`)
		assert.NotContains(t, errOut, "secret")
	}
}
