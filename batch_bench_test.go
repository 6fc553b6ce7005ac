package condasigs_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/testchannel"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

const benchPackages = 1000

// benchChannel serves benchPackages signed packages on loopback.
func benchChannel(b *testing.B) (*testchannel.Sigstore, []condasigs.Package) {
	b.Helper()
	ss := testchannel.NewSigstore(b)
	ch := testchannel.NewChannel(b, "linux-64")
	url := ch.Serve(b)
	pkgs := make([]condasigs.Package, 0, benchPackages)
	for i := range benchPackages {
		rec := ch.AddSigned(b, ss, fmt.Sprintf("pkg%d-1.0-0.conda", i), san, issuer, url)
		pkgs = append(pkgs, condasigs.Package{URL: ch.PackageURL(url, rec.Filename), Record: rec})
	}
	return ss, pkgs
}

// BenchmarkSingleVirtualBundle is the baseline for BenchmarkVerifyAll1000:
// one bundle of the same virtual Sigstore, verified in a loop.
func BenchmarkSingleVirtualBundle(b *testing.B) {
	ss := testchannel.NewSigstore(b)
	const filename = "pkg-1.0-0.conda"
	digest := sha([]byte(filename))
	bundle := ss.Bundle(b, san, issuer, testchannel.Statement(filename, digest, ""))
	v, err := attest.NewVerifier(ss)
	if err != nil {
		b.Fatal(err)
	}
	subject := attest.Subject{Filename: filename, SHA256: digest}
	for b.Loop() {
		if ev := v.VerifyBundle(0, bundle, subject); !ev.Verified {
			b.Fatal(ev.Message)
		}
	}
}

// BenchmarkVerifyAll1000 verifies a 1,000-package channel end to end, cold
// (every sidecar fetched over loopback). Compare its ns/op with
// BenchmarkSingleVirtualBundle × 1000 ÷ GOMAXPROCS.
func BenchmarkVerifyAll1000(b *testing.B) {
	ss, pkgs := benchChannel(b)
	v, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(ss, "virtual"),
		Policy: policy.Policy{Identities: trusted}, Fetcher: fetch.New(fetch.Options{})})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	for b.Loop() {
		for _, r := range v.VerifyAll(context.Background(), pkgs, condasigs.BatchOptions{}) {
			if r.Err != nil || r.Report.Outcome != policy.Pass {
				b.Fatalf("%s: %v %+v", r.Package.Record.Filename, r.Err, r.Report)
			}
		}
	}
}
