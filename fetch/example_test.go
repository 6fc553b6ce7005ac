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
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/condasigs/condasigs/fetch"
)

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

func ExampleFindRecords() {
	found, err := fetch.FindRecords(strings.NewReader(exampleRepodata), []string{"six-1.16.0-pyhd8ed1ab_0.conda", "six-9.9.9-0.conda"})
	if err != nil {
		panic(err) // the document is not repodata
	}
	rec := found["six-1.16.0-pyhd8ed1ab_0.conda"].Record
	fmt.Println(rec.Name, rec.Version, rec.AttestationsSHA256[:12])
	fmt.Println(errors.Is(found["six-9.9.9-0.conda"].Err, fetch.KindNotFound))
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
	fmt.Println(fetch.KindOf(err), errors.Is(err, fetch.KindNotAdvertised))

	// Advertised but absent: a retrieval failure, never "no attestations".
	rec.AttestationsSHA256 = strings.Repeat("0", 64)
	_, err = c.FetchSidecar(context.Background(), pkgURL, rec)
	fmt.Println(fetch.KindOf(err), errors.Is(err, fetch.KindNotAdvertised))
	// Output:
	// true
	// [{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]
	// not-advertised true
	// not-found false
}

// A directory cache keeps sidecars by their SHA-256 between runs: the second
// retrieval of a sidecar makes no request. Every cached copy is hashed
// again when it is read, so a damaged entry is fetched anew. NewDirCache
// creates the directory (mode 0700) and checks it: a directory others could
// write is refused, and the program carries on without a cache.
func ExampleNewDirCache() {
	base, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(base)
	cache, err := fetch.NewDirCache(filepath.Join(base, "sidecars"))
	if err != nil {
		// errors.Is(err, fetch.ErrCacheDirNotPrivate): the error says
		// which path is at fault and how to fix it. A nil Cache is none.
		fmt.Println("not caching:", err)
	}

	sidecar := []byte(`[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]`)
	sum := sha256.Sum256(sidecar)
	rec := fetch.Record{Filename: "six-1.16.0-pyhd8ed1ab_0.conda", AttestationsSHA256: hex.EncodeToString(sum[:])}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = w.Write(sidecar)
	}))
	defer srv.Close()

	c := fetch.New(fetch.Options{Cache: cache})
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
