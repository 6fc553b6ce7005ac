package fetch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

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
