package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPixiLocalBinariesAreVerified: a pixi.lock whose linux-64 list names,
// besides the attested package, package files at a relative path and at an
// absolute path with a % in it: pixi installs both as it installs a
// channel's, so neither is skipped, and the gate does not pass.
func TestPixiLocalBinariesAreVerified(t *testing.T) {
	config, _ := envFiles(t, fileURL(t)+"#"+pkgSHA256)
	dir := t.TempDir()
	evil := strings.Repeat("ee", 32)
	lock := `version: 6
environments:
  default:
    channels:
    - url: https://conda.anaconda.org/conda-forge/
    packages:
      linux-64:
      - conda: ` + fileURL(t) + `
      - conda: ./evil-1.0-0.conda
      - conda: /opt/pk%20gs/linux-64/evil2-1.0-0.conda
packages:
- conda: ` + fileURL(t) + `
  sha256: ` + pkgSHA256 + `
- conda: ./evil-1.0-0.conda
  sha256: ` + evil + `
- conda: /opt/pk%20gs/linux-64/evil2-1.0-0.conda
  sha256: ` + evil + `
`
	p := filepath.Join(dir, "pixi.lock")
	if err := os.WriteFile(p, []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"--no-cache"}, {"--no-cache", "--platform", "linux-64"}} {
		code, out, errOut := runCLI(t, envArgs(config, p, extra...)...)
		if code == exitOK || strings.Contains(out+errOut, "skipped") {
			t.Errorf("%v: exit %d, local package files skipped:\n%s%s", extra, code, out, errOut)
		}
	}
}
