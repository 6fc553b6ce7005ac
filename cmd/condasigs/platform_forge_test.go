package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlatformSelectsWhatIsInstalled: --platform selects the packages the
// lock file installs on the platform, not those whose URL names it. An
// entry an installer installs there is never left out: conda installs every
// line of an explicit file, pixi every package of the platform's list.
func TestPlatformSelectsWhatIsInstalled(t *testing.T) {
	good := fileURL(t) + "#" + pkgSHA256
	evilSHA := strings.Repeat("ab", 32)
	run := func(t *testing.T, config, file string, extra ...string) (int, string) {
		t.Helper()
		code, out, errOut := runCLI(t, envArgs(config, file, append([]string{"--no-cache"}, extra...)...)...)
		return code, out + errOut
	}

	t.Run("explicit: a line in a made-up subdir", func(t *testing.T) {
		config, explicit := envFiles(t, good, "https://evil.invalid/conda-forge/linux-64x/evil-1.0-0.conda#"+evilSHA)
		code, out := run(t, config, explicit, "--platform", "linux-64")
		assert.Equal(t, exitProblem, code, out)
		assert.Contains(t, out, `is in subdir "linux-64x", but the lock file installs it on platform "linux-64"`)
	})

	// A channel the policy checks: the mirror of envFiles' configuration.
	mirror := strings.TrimSuffix(fileURL(t), "/linux-64/"+pkgName)

	t.Run("explicit without # platform:", func(t *testing.T) {
		config, explicit := envFiles(t, good, mirror+"/osx-64/evil-1.0-0.conda#"+evilSHA)
		data, err := os.ReadFile(explicit)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(explicit, []byte(strings.TrimPrefix(string(data), "# platform: linux-64\n")), 0o644))
		code, out := run(t, config, explicit, "--platform", "linux-64")
		assert.Equal(t, exitProblem, code, out)
		assert.Contains(t, out, "does not say which platform its packages are installed on")
		code, out = run(t, config, explicit)
		assert.Equal(t, exitFail, code, "every line is verified: %s", out)
	})

	pixi := func(t *testing.T, linux64 []string, osx []string, entries ...string) string {
		t.Helper()
		var b strings.Builder
		b.WriteString("version: 6\nenvironments:\n  default:\n    channels:\n    - url: https://conda.anaconda.org/conda-forge/\n    packages:\n      linux-64:\n")
		for _, u := range linux64 {
			b.WriteString("      - conda: " + u + "\n")
		}
		b.WriteString("      osx-arm64:\n")
		for _, u := range osx {
			b.WriteString("      - conda: " + u + "\n")
		}
		b.WriteString("packages:\n")
		for _, e := range entries {
			b.WriteString(e)
		}
		lock := filepath.Join(t.TempDir(), "pixi.lock")
		require.NoError(t, os.WriteFile(lock, []byte(b.String()), 0o644))
		return lock
	}
	entry := func(u, sha string) string { // sha256 only: pixi's installer checks it
		return "- conda: " + u + "\n  sha256: " + sha + "\n"
	}
	config, _ := envFiles(t, good)
	goodURL := fileURL(t)

	t.Run("pixi.lock: another platform's URL in the platform's list", func(t *testing.T) {
		bad := "https://conda.anaconda.org/conda-forge/osx-64/evil-1.0-0.conda"
		code, out := run(t, config, pixi(t, []string{goodURL, bad}, nil, entry(goodURL, pkgSHA256), entry(bad, evilSHA)), "--platform", "linux-64")
		assert.Equal(t, exitProblem, code, out)
		assert.Contains(t, out, `is in subdir "osx-64", but the lock file installs it on platform "linux-64"`)
	})

	t.Run("pixi.lock: a noarch package of the platform's list", func(t *testing.T) {
		bad := mirror + "/noarch/evil-1.0-0.conda"
		code, out := run(t, config, pixi(t, []string{goodURL, bad}, nil, entry(goodURL, pkgSHA256), entry(bad, evilSHA)), "--platform", "linux-64")
		assert.Equal(t, exitFail, code, "verified, and failed: %s", out)
	})

	t.Run("pixi.lock: another platform's package is not this one's", func(t *testing.T) {
		other := mirror + "/osx-arm64/other-1.0-0.conda"
		code, out := run(t, config, pixi(t, []string{goodURL}, []string{other}, entry(goodURL, pkgSHA256), entry(other, evilSHA)), "--platform", "linux-64")
		assert.Equal(t, exitOK, code, out)
		code, out = run(t, config, pixi(t, []string{goodURL}, []string{other}, entry(goodURL, pkgSHA256), entry(other, evilSHA)))
		assert.Equal(t, exitFail, code, "without --platform, every platform's: %s", out)
	})

	t.Run("pixi.lock: a reference in another spelling", func(t *testing.T) {
		evil := mirror + "/osx-arm64/evil-1.0-0.conda"
		alias := mirror + "/./osx-arm64/evil-1.0-0.conda" // one URL for pixi
		var b strings.Builder
		b.WriteString("version: 6\nenvironments:\n  default:\n    packages:\n      linux-64:\n      - conda: " + goodURL + "\n      - conda: " + alias + "\n")
		b.WriteString("  decoy:\n    packages:\n      osx-arm64:\n      - conda: " + evil + "\n")
		b.WriteString("packages:\n" + entry(goodURL, pkgSHA256) + entry(evil, evilSHA))
		lock := filepath.Join(t.TempDir(), "pixi.lock")
		require.NoError(t, os.WriteFile(lock, []byte(b.String()), 0o644))
		code, out := run(t, config, lock, "--platform", "linux-64")
		assert.Equal(t, exitProblem, code, out)
		assert.Contains(t, out, "which no entry of packages: describes with that location")
	})
}
