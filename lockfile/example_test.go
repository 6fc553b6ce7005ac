package lockfile_test

import (
	"fmt"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/lockfile"
)

// A lock file's format is read from its content: here a pixi.lock of
// version 6 with a conda package and a PyPI package. A conda explicit
// file (conda list --explicit --sha256) or a conda-lock.yml is parsed the
// same way; Read reads one from disk.
func ExampleParse() {
	const pixiLock = `version: 6
environments:
  default:
    channels:
    - url: https://conda.anaconda.org/conda-forge/
    packages:
      linux-64:
      - conda: https://conda.anaconda.org/conda-forge/linux-64/libzlib-1.3.1-hb9d3cd8_2.conda
      - pypi: https://files.pythonhosted.org/packages/f9/9b/335f9764261e915ed497fcdeb11df5dfd6f7bf257d4a6a2a686d80da4d54/requests-2.32.3-py3-none-any.whl
packages:
- conda: https://conda.anaconda.org/conda-forge/linux-64/libzlib-1.3.1-hb9d3cd8_2.conda
  sha256: 8a688ebdfbfb7741930d5e04d1f593e8801320aae65e48859ec01bb664b931e2
  md5: 919eff711deb8004bbf57c6c6fa48d80
- pypi: https://files.pythonhosted.org/packages/f9/9b/335f9764261e915ed497fcdeb11df5dfd6f7bf257d4a6a2a686d80da4d54/requests-2.32.3-py3-none-any.whl
  name: requests
  version: 2.32.3
`
	lf, err := lockfile.Parse("pixi.lock", []byte(pixiLock))
	if err != nil {
		fmt.Println(err) // a *lockfile.Error: FILE:LINE: what is wrong
		return
	}
	fmt.Println(lf.Format)
	for _, p := range lf.Packages {
		fmt.Printf("line %d: %v %s sha256 %s...\n", p.Line, p.Platforms, conda.Redact(p.URL), p.SHA256[:12])
	}
	for _, s := range lf.Skipped {
		fmt.Printf("line %d: skipped %s\n", s.Line, s.What)
	}

	// Errors name the file and the line.
	_, err = lockfile.Parse("env.txt", []byte("@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-0.conda#abc\n"))
	fmt.Println(err)
	// Output:
	// pixi.lock
	// line 11: [linux-64] https://conda.anaconda.org/conda-forge/linux-64/libzlib-1.3.1-hb9d3cd8_2.conda sha256 8a688ebdfbfb...
	// line 14: skipped PyPI package requests 2.32.3
	// env.txt:2: the hash "abc" after # has 3 characters: conda reads #<32 hexadecimal characters> as an MD5 and #<64> (or #sha256:<64>) as a SHA-256
}
