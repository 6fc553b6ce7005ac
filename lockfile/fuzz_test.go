package lockfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/lockfile"
)

var (
	fuzzSHA256 = regexp.MustCompile(`^([0-9a-f]{64})?$`)
	fuzzMD5    = regexp.MustCompile(`^([0-9a-f]{32})?$`)
)

// FuzzParseLockFile: Parse never panics; every error is a
// *lockfile.Error; every package it returns has a URL that
// SplitPackageURL splits into <channel>/<subdir>/<file>.conda or .tar.bz2,
// platforms (sorted, once each) of which the subdir is one or noarch,
// lowercase hexadecimal hashes of the right
// length (at least one for the YAML formats), a line of the file, and a
// URL no other package has.
func FuzzParseLockFile(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "lock", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed files in testdata/lock: %v", err)
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"@EXPLICIT\n" + urlA + "#" + md5A + "\n" + urlA + "#sha256:" + shaA + "\n",
		"@EXPLICIT\n/opt/ch/linux-64/a-1-0.conda\nC:\\ch\\win-64\\a-1-0.tar.bz2#" + md5A + "\n",
		"x\n@EXPLICIT\n",
		pixiV6("- &e\n  conda: " + urlA + "\n  md5: " + md5A + "\n- *e\n- conda: ../src\n- conda: /abs/linux-64/p-1-0.conda\n  md5: " + md5B + "\n"),
		"version: 5\nenvironments: {}\npackages:\n- kind: conda\n  url: " + urlB + "\n  sha256: " + shaB + "\n- kind: pypi\n  path: ./x\n",
		condaLock(condaLockEntry("linux-64", urlA, md5A) + condaLockEntry("osx-arm64", urlB, md5A)),
		"version: 1\nh: &h {md5: " + md5A + "}\npackage:\n- {manager: conda, platform: linux-64, url: \"" + urlTok + "\", hash: *h}\n",
		"a: &a [*a]\nversion: 6\npackages: *a\n",
		"version: 6\npackages:\n- <<: {conda: x}\n",
		"version: 6\npackages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n", // no environments:
		"", "\ufeff", "[]", "{}", "- x", "version: 6\nenvironments: {}\npackages:\n- conda: [\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := lockfile.Parse("fuzz.lock", data)
		if err != nil {
			if _, ok := err.(*lockfile.Error); !ok {
				t.Fatalf("error of type %T, not *lockfile.Error: %v", err, err)
			}
			if lf != nil {
				t.Fatalf("a lock file and an error: %v", err)
			}
			return
		}
		switch lf.Format {
		case lockfile.FormatExplicit, lockfile.FormatPixiLock, lockfile.FormatCondaLock:
		default:
			t.Fatalf("unknown format %q", lf.Format)
		}
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1 // at most
		seen := map[string]bool{}
		for _, p := range lf.Packages {
			loc, err := conda.SplitPackageURL(p.URL)
			if err != nil {
				t.Fatalf("package %q: %v", p.URL, err)
			}
			if !strings.HasSuffix(loc.Filename, ".conda") && !strings.HasSuffix(loc.Filename, ".tar.bz2") {
				t.Fatalf("package %q: not a .conda or .tar.bz2 file", p.URL)
			}
			if !slices.IsSorted(p.Platforms) || len(slices.Compact(slices.Clone(p.Platforms))) != len(p.Platforms) {
				t.Fatalf("package %q: platforms %q not sorted, once each", p.URL, p.Platforms)
			}
			for _, pl := range p.Platforms {
				if pl != loc.Subdir && loc.Subdir != "noarch" {
					t.Fatalf("package %q in subdir %q installed on platform %q", p.URL, loc.Subdir, pl)
				}
			}
			if !fuzzSHA256.MatchString(p.SHA256) || !fuzzMD5.MatchString(p.MD5) {
				t.Fatalf("package %q: hashes %q, %q", p.URL, p.SHA256, p.MD5)
			}
			if lf.Format != lockfile.FormatExplicit && p.SHA256 == "" && p.MD5 == "" {
				t.Fatalf("package %q of a %s without a hash", p.URL, lf.Format)
			}
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("package %q at line %d of %d", p.URL, p.Line, lines)
			}
			if seen[p.URL] {
				t.Fatalf("package %q listed twice", p.URL)
			}
			seen[p.URL] = true
		}
		for _, s := range lf.Skipped {
			if s.What == "" || s.Reason == "" || s.Line < 1 || s.Line > lines {
				t.Fatalf("skipped entry %+v", s)
			}
		}
	})
}
