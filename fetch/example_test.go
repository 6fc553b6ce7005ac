package fetch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"

	"github.com/condasigs/condasigs/fetch"
)

func ExampleSidecarURL() {
	const digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	u, err := fetch.SidecarURL("https://repo.example/t/tk-1/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda?token=abc#top", digest)
	if err != nil {
		panic(err)
	}
	fmt.Println(u)
	fmt.Println(fetch.Redact(u))

	_, err = fetch.SidecarURL("https://repo.example/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda", strings.ToUpper(digest))
	fmt.Println(fetch.KindOf(err))
	// Output:
	// https://repo.example/t/tk-1/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda.sigs.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?token=abc
	// https://repo.example/t/REDACTED/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda.sigs.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?REDACTED
	// invalid-digest
}

const exampleRepodata = `{
  "info": {"subdir": "noarch"},
  "packages": {
    "six-1.15.0-py_0.tar.bz2": {"name": "six", "version": "1.15.0", "build": "py_0", "build_number": 0}
  },
  "packages.conda": {
    "six-1.16.0-pyhd8ed1ab_0.conda": {"name": "six", "version": "1.16.0", "build": "pyhd8ed1ab_0", "build_number": 0,
      "attestations_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
  }
}`

func ExampleScanRepodata() {
	err := fetch.ScanRepodata(strings.NewReader(exampleRepodata), func(r fetch.Record) bool {
		fmt.Println(r.Subdir, r.Filename, r.HasAttestations())
		return true // keep going
	})
	fmt.Println(err)
	// Output:
	// noarch six-1.15.0-py_0.tar.bz2 false
	// noarch six-1.16.0-pyhd8ed1ab_0.conda true
	// <nil>
}

func ExampleFindRecord() {
	rec, err := fetch.FindRecord(strings.NewReader(exampleRepodata), "six-1.16.0-pyhd8ed1ab_0.conda")
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Name, rec.Version, rec.AttestationsSHA256[:12])

	_, err = fetch.FindRecord(strings.NewReader(exampleRepodata), "six-9.9.9-0.conda")
	fmt.Println(errors.Is(err, fetch.ErrNotFound))
	// Output:
	// six 1.16.0 e3b0c44298fc
	// true
}

func ExampleClient_FetchSidecar() {
	sidecar := []byte(`[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]`)
	sum := sha256.Sum256(sidecar)
	digest := hex.EncodeToString(sum[:])

	// A channel that serves the sidecar at its content-addressed URL.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda.sigs."+digest {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(sidecar)
	}))
	defer srv.Close()

	c := fetch.New(fetch.Options{})
	pkgURL := srv.URL + "/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda"
	rec := fetch.Record{Filename: "six-1.16.0-pyhd8ed1ab_0.conda", AttestationsSHA256: digest}

	sc, err := c.FetchSidecar(context.Background(), pkgURL, rec)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.TrimPrefix(sc.URL, srv.URL) == "/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda.sigs."+digest)
	fmt.Println(string(sc.Data))

	// No attestations_sha256: no request, and not a retrieval failure.
	_, err = c.FetchSidecar(context.Background(), pkgURL, fetch.Record{Filename: rec.Filename})
	fmt.Println(fetch.KindOf(err), fetch.IsRetrievalFailure(err))

	// Advertised but absent: a retrieval failure, never "no attestations".
	rec.AttestationsSHA256 = strings.Repeat("0", 64)
	_, err = c.FetchSidecar(context.Background(), pkgURL, rec)
	fmt.Println(fetch.KindOf(err), fetch.IsRetrievalFailure(err))
	// Output:
	// true
	// [{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]
	// not-advertised false
	// not-found true
}

// A lock file's format is read from its content: here a pixi.lock of
// version 6 with a conda package and a PyPI package. A conda explicit
// file (conda list --explicit --sha256) or a conda-lock.yml is parsed the
// same way; ReadLockFile reads one from disk.
func ExampleParseLockFile() {
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
	lf, err := fetch.ParseLockFile("pixi.lock", []byte(pixiLock))
	if err != nil {
		fmt.Println(err) // a *fetch.LockFileError: FILE:LINE: what is wrong
		return
	}
	fmt.Println(lf.Format)
	for _, p := range lf.Packages {
		fmt.Printf("line %d: %s %s sha256 %s...\n", p.Line, p.Platform, fetch.Redact(p.URL), p.SHA256[:12])
	}
	for _, s := range lf.Skipped {
		fmt.Printf("line %d: skipped %s\n", s.Line, s.What)
	}

	// Errors name the file and the line.
	_, err = fetch.ParseLockFile("env.txt", []byte("@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-0.conda#abc\n"))
	fmt.Println(err)
	// Output:
	// pixi.lock
	// line 11: linux-64 https://conda.anaconda.org/conda-forge/linux-64/libzlib-1.3.1-hb9d3cd8_2.conda sha256 8a688ebdfbfb...
	// line 14: skipped PyPI package requests 2.32.3
	// env.txt:2: the hash "abc" after # has 3 characters: conda reads #<32 hexadecimal characters> as an MD5 and #<64> (or #sha256:<64>) as a SHA-256
}

// A DirCache keeps sidecars by their SHA-256 between runs: the second
// retrieval of a sidecar makes no request. Every cached copy is hashed
// again when it is read, so a damaged entry is fetched anew.
func ExampleDirCache() {
	dir, err := os.MkdirTemp("", "sidecars")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	sidecar := []byte(`[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]`)
	sum := sha256.Sum256(sidecar)
	rec := fetch.Record{Filename: "six-1.16.0-pyhd8ed1ab_0.conda", AttestationsSHA256: hex.EncodeToString(sum[:])}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = w.Write(sidecar)
	}))
	defer srv.Close()

	c := fetch.New(fetch.Options{Cache: fetch.DirCache(dir)}) // created on first use, mode 0700
	for range 2 {
		sc, err := c.FetchSidecar(context.Background(), srv.URL+"/conda-forge/noarch/"+rec.Filename, rec)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("from cache:", sc.FromCache)
	}
	fmt.Println("requests:", requests.Load())
	// Output:
	// from cache: false
	// from cache: true
	// requests: 1
}

// SplitPackageURL splits a package URL into the parts CEP 50 names; the
// channel comes without credentials, the repodata URL keeps them (for
// fetching, never for printing).
func ExampleSplitPackageURL() {
	loc, err := fetch.SplitPackageURL("https://repo.example/t/tk-1/my-org/label/dev/linux-64/tool-1.0-h0_0.conda")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loc.Channel)
	fmt.Println(loc.Subdir, loc.Filename)
	fmt.Println(fetch.Redact(loc.RepodataURL))

	_, err = fetch.SplitPackageURL("ftp://repo.example/my-org/linux-64/tool-1.0-h0_0.conda")
	fmt.Println(fetch.KindOf(err))
	// Output:
	// https://repo.example/my-org/label/dev
	// linux-64 tool-1.0-h0_0.conda
	// https://repo.example/t/REDACTED/my-org/label/dev/linux-64/repodata.json
	// invalid-url
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
		fmt.Println(fetch.Redact(u))
	}
	// Output:
	// https://repo.example/my-org/linux-64/tool-1.0-h0_0.conda
	// https://repo.example/my-org/linux-64/repodata.json?REDACTED
	// https://conda.anaconda.org/t/REDACTED/my-org/noarch/tool-1.0-py_0.conda
	// https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyhd8ed1ab_0.conda
}
