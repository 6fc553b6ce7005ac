package lockfile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/lockfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlatformsAreWhatInstallersInstall: a package's Platforms are those
// the lock file installs it on, not the subdir its URL names: a gate that
// verifies one platform's packages must see every package an installer
// installs there, whatever its URL says.
func TestPlatformsAreWhatInstallersInstall(t *testing.T) {
	platformsOf := func(t *testing.T, name, data string) map[string][]string {
		t.Helper()
		lf, err := lockfile.Parse(name, []byte(data))
		require.NoError(t, err)
		checkLockFile(t, lf)
		out := map[string][]string{}
		for _, p := range lf.Packages {
			out[p.URL] = p.Platforms
		}
		return out
	}

	t.Run("pixi.lock: the environments' lists", func(t *testing.T) {
		got := platformsOf(t, "pixi.lock", "version: 6\nenvironments:\n"+
			"  default:\n    packages:\n"+
			"      linux-64:\n      - conda: "+urlA+"\n      - conda: "+urlB+"\n      - pypi: "+urlWhl+"\n"+
			"      osx-arm64:\n      - conda: "+urlOSX+"\n      - conda: "+urlB+"\n"+
			"  test:\n    packages:\n      win-64:\n      - conda: "+urlB+"\n"+
			"packages:\n"+
			"- conda: "+urlA+"\n  md5: "+md5A+"\n"+
			"- conda: "+urlB+"\n  md5: "+md5B+"\n"+
			"- conda: "+urlOSX+"\n  md5: "+md5A+"\n"+
			"- conda: "+urlBz2+"\n  md5: "+md5A+"\n") // in no environment
		assert.Equal(t, map[string][]string{
			urlA:   {"linux-64"},
			urlB:   {"linux-64", "osx-arm64", "win-64"}, // noarch, in every list, of both environments
			urlOSX: {"osx-arm64"},
			urlBz2: nil, // not said: every platform
		}, got)
	})

	t.Run("pixi.lock: versions 4 and 5", func(t *testing.T) {
		got := platformsOf(t, "pixi.lock", "version: 5\nenvironments:\n  default:\n    packages:\n      linux-64:\n      - conda: "+urlA+"\n"+
			"packages:\n- kind: conda\n  url: "+urlA+"\n  md5: "+md5A+"\n")
		assert.Equal(t, map[string][]string{urlA: {"linux-64"}}, got)
	})

	t.Run("explicit: its # platform: line", func(t *testing.T) {
		got := platformsOf(t, "env.txt", "# platform: linux-64\n@EXPLICIT\n"+urlA+"\n"+urlB+"\n")
		assert.Equal(t, map[string][]string{urlA: {"linux-64"}, urlB: {"linux-64"}}, got)
		// conda skips comments wherever they are: so does the platform's.
		got = platformsOf(t, "env.txt", "@EXPLICIT\n"+urlA+"\n"+urlB+"\n#platform : linux-64\n# platform: linux-64\n")
		assert.Equal(t, map[string][]string{urlA: {"linux-64"}, urlB: {"linux-64"}}, got)
	})

	t.Run("explicit without # platform: says nothing", func(t *testing.T) {
		got := platformsOf(t, "env.txt", "# conda list --explicit\n@EXPLICIT\n"+urlA+"\n"+urlOSX+"\n")
		assert.Equal(t, map[string][]string{urlA: nil, urlOSX: nil}, got)
	})

	t.Run("conda-lock.yml: each entry's platform", func(t *testing.T) {
		got := platformsOf(t, "conda-lock.yml", condaLock(condaLockEntry("linux-64", urlB, md5A)+condaLockEntry("osx-arm64", urlB, md5A)+condaLockEntry("osx-arm64", urlOSX, md5B)))
		assert.Equal(t, map[string][]string{urlB: {"linux-64", "osx-arm64"}, urlOSX: {"osx-arm64"}}, got)
	})
}

// TestPlatformContradictions: a package whose URL is in another subdir than
// the platform the file installs it on (or noarch) is refused, in every
// format: an installer installs it there anyway.
func TestPlatformContradictions(t *testing.T) {
	evil := "https://evil.invalid/conda-forge/linux-64x/evil-1.0-0.conda"
	for _, tc := range []struct {
		name, file, data string
		line             int
		msg              string
	}{
		{"explicit: another subdir", "env.txt", "# platform: linux-64\n@EXPLICIT\n" + urlA + "\n" + evil + "#" + shaA + "\n", 4,
			`is in subdir "linux-64x", but the lock file installs it on platform "linux-64"`},
		{"explicit: two platforms", "env.txt", "# platform: linux-64\n# platform: osx-64\n@EXPLICIT\n" + urlA + "\n", 2,
			`# platform: "osx-64", but line 1 says # platform: "linux-64"`},
		{"explicit: not a subdir name", "env.txt", "# platform: linux 64\n@EXPLICIT\n" + urlA + "\n", 1,
			`is not a conda subdir name`},
		{"pixi.lock: another subdir", "pixi.lock", "version: 6\nenvironments:\n  default:\n    packages:\n      linux-64:\n      - conda: " + urlOSX + "\n" +
			"packages:\n- conda: " + urlOSX + "\n  md5: " + md5A + "\n", 8,
			`is in subdir "osx-arm64", but the lock file installs it on platform "linux-64"`},
		{"pixi.lock: not a subdir name", "pixi.lock", "version: 6\nenvironments:\n  default:\n    packages:\n      Linux:\n      - conda: " + urlA + "\n" +
			"packages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n", 5,
			`the platform "Linux" is not a conda subdir name`},
		{"pixi.lock: a platform's packages not a list", "pixi.lock", "version: 6\nenvironments:\n  default:\n    packages:\n      linux-64: " + urlA + "\n" +
			"packages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n", 5,
			`the packages of platform "linux-64" are`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := lockFileError(t, tc.file, tc.line, tc.data)
			assert.Contains(t, le.Error(), tc.msg)
		})
	}

	// pixi resolves an environment's reference by URL equality after
	// normalising both; read by its text, a reference in another spelling
	// would leave the package it names on no platform of it.
	t.Run("pixi.lock: a reference to no described location", func(t *testing.T) {
		for _, ref := range []string{
			"https://example.com/c/win-64/unlisted-1-0.conda",
			strings.Replace(urlOSX, "conda.anaconda.org", "CONDA.anaconda.org", 1),
			strings.Replace(urlOSX, "https://", "HTTPS://", 1),
			strings.Replace(urlOSX, "conda.anaconda.org", "conda.anaconda.org:443", 1),
			strings.Replace(urlOSX, "/conda-forge/", "/conda-forge/./", 1),
			strings.Replace(urlOSX, "/conda-forge/", "/x/../conda-forge/", 1),
			"file:///srv/ch/osx-arm64/zlib-1.3.1-h8359307_2.conda",
		} {
			data := "version: 6\nenvironments:\n" +
				"  default:\n    packages:\n      linux-64:\n      - conda: " + urlA + "\n      - conda: " + ref + "\n" +
				"  decoy:\n    packages:\n      osx-arm64:\n      - conda: " + urlOSX + "\n" +
				"packages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n- conda: " + urlOSX + "\n  md5: " + md5B + "\n"
			le := lockFileError(t, "pixi.lock", 7, data)
			assert.Contains(t, le.Error(), "which no entry of packages: describes with that location", ref)
		}
	})
	t.Run("pixi.lock: one package in two spellings", func(t *testing.T) {
		alt := strings.Replace(urlOSX, "conda.anaconda.org", "CONDA.anaconda.org:443", 1)
		data := "version: 6\nenvironments:\n  default:\n    packages:\n      osx-arm64:\n      - conda: " + urlOSX + "\n      - conda: " + alt + "\n" +
			"packages:\n- conda: " + urlOSX + "\n  md5: " + md5A + "\n- conda: " + alt + "\n  md5: " + md5B + "\n"
		le := lockFileError(t, "pixi.lock", 11, data)
		assert.Contains(t, le.Error(), "name one package in two spellings")
	})

	t.Run("pixi.lock: too many platforms", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("version: 6\nenvironments:\n  default:\n    packages:\n")
		for i := range 65 {
			fmt.Fprintf(&b, "      p%d: []\n", i)
		}
		b.WriteString("packages: []\n")
		le := lockFileError(t, "pixi.lock", 69, b.String())
		assert.Contains(t, le.Error(), "more than 64 platforms")
	})
}

// TestPixiLocalPackageFiles: pixi installs a package file at a local path
// as it installs one of a channel (rattler takes the path as written, with
// no ~, $ or % expansion), so such an entry is verified from its directory,
// never skipped.
func TestPixiLocalPackageFiles(t *testing.T) {
	entry := func(loc string) string {
		return "version: 6\nenvironments: {}\npackages:\n- conda: " + loc + "\n  sha256: " + shaA + "\n"
	}

	lf, err := lockfile.Parse("pixi.lock", []byte(entry("/opt/pk%20gs/~me/$HOME/linux-64/evil2-1.0-0.conda")))
	require.NoError(t, err)
	require.Len(t, lf.Packages, 1)
	assert.Equal(t, "file:///opt/pk%2520gs/~me/$HOME/linux-64/evil2-1.0-0.conda", lf.Packages[0].URL)
	assert.Empty(t, lf.Skipped)

	// Relative to the lock file: known when it is read by its path.
	le := lockFileError(t, "pixi.lock", 4, entry("./evil-1.0-0.conda"))
	assert.Contains(t, le.Error(), "at a path relative to the lock file, whose directory is not known here")

	// A wheel is never a conda package.
	le = lockFileError(t, "pixi.lock", 4, entry("https://files.example.com/x-1.0-py3-none-any.whl"))
	assert.Contains(t, le.Error(), "a wheel")
}
