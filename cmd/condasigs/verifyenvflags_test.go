package main

import (
	"fmt"
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
