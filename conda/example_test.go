package conda_test

import (
	"fmt"
	"strings"

	"github.com/condasigs/condasigs/conda"
)

func ExampleSidecarURL() {
	const digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	u, err := conda.SidecarURL("https://repo.example/t/tk-1/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda?token=abc#top", digest)
	if err != nil {
		panic(err)
	}
	fmt.Println(u)
	fmt.Println(conda.Redact(u))

	_, err = conda.SidecarURL("https://repo.example/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda", strings.ToUpper(digest))
	fmt.Println(err)
	// Output:
	// https://repo.example/t/tk-1/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda.sigs.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?token=abc
	// https://repo.example/t/REDACTED/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda.sigs.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?REDACTED
	// attestations_sha256 has a character other than lowercase hex at offset 0
}

// SplitPackageURL splits a package URL into the parts CEP 50 names; the
// channel comes without credentials, the repodata URL keeps them (for
// fetching, never for printing).
func ExampleSplitPackageURL() {
	loc, err := conda.SplitPackageURL("https://repo.example/t/tk-1/my-org/label/dev/linux-64/tool-1.0-h0_0.conda")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loc.Channel)
	fmt.Println(loc.Subdir, loc.Filename)
	fmt.Println(conda.Redact(loc.RepodataURL))

	_, err = conda.SplitPackageURL("ftp://repo.example/my-org/linux-64/tool-1.0-h0_0.conda")
	fmt.Println(err)
	// Output:
	// https://repo.example/my-org/label/dev
	// linux-64 tool-1.0-h0_0.conda
	// https://repo.example/t/REDACTED/my-org/label/dev/linux-64/repodata.json
	// ftp://repo.example/my-org/linux-64/tool-1.0-h0_0.conda: unsupported URL scheme "ftp": use http, https or file
}

// Redact makes a URL fit for logs and reports: no user information, no
// query string, no conda /t/<token>/ token.
func ExampleRedact() {
	for _, u := range []string{
		"https://user:secret@repo.example/my-org/linux-64/tool-1.0-h0_0.conda",
		"https://repo.example/my-org/linux-64/repodata.json?token=secret",
		"https://conda.anaconda.org/t/secret/my-org/noarch/tool-1.0-py_0.conda",
		"https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda",
	} {
		fmt.Println(conda.Redact(u))
	}
	// Output:
	// https://repo.example/my-org/linux-64/tool-1.0-h0_0.conda
	// https://repo.example/my-org/linux-64/repodata.json?REDACTED
	// https://conda.anaconda.org/t/REDACTED/my-org/noarch/tool-1.0-py_0.conda
	// https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda
}
