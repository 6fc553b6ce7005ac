package condasigs_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

const benchPackages = 1000

// benchEnv is a channel of benchPackages signed packages served on
// loopback, and the trusted root of its virtual Sigstore as a
// trusted_root.json (so that verdicts can be cached by its digest).
type benchEnv struct {
	ss    *condasigstest.Sigstore
	ch    *condasigstest.Channel
	trust trustroot.Source
	pkgs  []condasigs.Package
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	e := &benchEnv{ss: condasigstest.NewSigstore(b), ch: condasigstest.NewChannel(b, "linux-64")}
	url := e.ch.Serve(b)
	for i := range benchPackages {
		rec := e.ch.Add(b, condasigstest.Package{Filename: fmt.Sprintf("pkg%d-1.0-0.conda", i), Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: url})
		e.pkgs = append(e.pkgs, condasigs.Package{URL: url + "/linux-64/" + rec.Filename, Record: rec})
	}
	var err error
	if e.trust, err = trustroot.FromJSON(e.ss.TrustedRootJSON(b)); err != nil {
		b.Fatal(err)
	}
	return e
}

// verifier returns a Verifier with caches in dir, or none if dir is "".
func (e *benchEnv) verifier(b *testing.B, dir string) *condasigs.Verifier {
	b.Helper()
	var sidecars, verdicts fetch.Cache
	if dir != "" {
		var err error
		if sidecars, err = fetch.NewDirCache(dir + "/sidecars"); err != nil {
			b.Fatal(err)
		}
		if verdicts, err = fetch.NewDirCache(dir + "/verdicts"); err != nil {
			b.Fatal(err)
		}
	}
	v, err := condasigs.New(condasigs.Options{Trust: e.trust, Policy: policy.Policy{Identities: trusted},
		Fetcher: fetch.New(fetch.Options{Cache: sidecars}), VerdictCache: verdicts})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// sidecarRequests is the number of sidecar requests the channel served.
func (e *benchEnv) sidecarRequests() int {
	n := 0
	for _, p := range e.pkgs {
		n += e.ch.Requests("/linux-64/" + p.Record.Filename + ".sigs." + p.Record.AttestationsSHA256)
	}
	return n
}

func verifyAllPass(b *testing.B, v *condasigs.Verifier, pkgs []condasigs.Package) {
	for _, r := range v.VerifyAll(context.Background(), pkgs, condasigs.BatchOptions{}) {
		if r.Err != nil || r.Report.Outcome != policy.Pass {
			b.Fatalf("%s: %v %+v", r.Package.Record.Filename, r.Err, r.Report)
		}
	}
}

// BenchmarkSingleVirtualBundle is the baseline for BenchmarkVerifyAll1000:
// one bundle of the same virtual Sigstore, verified in a loop.
func BenchmarkSingleVirtualBundle(b *testing.B) {
	ss := condasigstest.NewSigstore(b)
	const filename = "pkg-1.0-0.conda"
	digest := sha([]byte(filename))
	bundle := ss.Bundle(b, san, issuer, condasigstest.Statement(filename, digest, ""))
	v, err := attest.NewVerifier(ss.TrustedMaterial())
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
// (no cache: every sidecar fetched over loopback and verified). Compare its
// ns/op with BenchmarkSingleVirtualBundle × 1000 ÷ GOMAXPROCS. It also
// reports the peak heap in use during a run.
func BenchmarkVerifyAll1000(b *testing.B) {
	e := newBenchEnv(b)
	v := e.verifier(b, "")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	var peak uint64
	for b.Loop() {
		stop := sampleHeap(&peak)
		verifyAllPass(b, v, e.pkgs)
		stop()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkVerifyAll1000Warm verifies the same channel again with the
// sidecar and verdict caches filled by an earlier run (a new Verifier, as
// a new process would be). It also times three cold runs
// (no cache) in the same process, after the timed loop, and reports the
// warm time as a percentage of the fastest of them. It fails if any sidecar
// is requested during the warm runs.
func BenchmarkVerifyAll1000Warm(b *testing.B) {
	e := newBenchEnv(b)
	dir := b.TempDir()
	verifyAllPass(b, e.verifier(b, dir), e.pkgs)
	before := e.sidecarRequests()
	v := e.verifier(b, dir)
	start := time.Now()
	for b.Loop() {
		verifyAllPass(b, v, e.pkgs)
	}
	warmTime := time.Since(start) / time.Duration(b.N)
	if n := e.sidecarRequests() - before; n != 0 {
		b.Fatalf("a warm run made %d sidecar requests", n)
	}
	cold := e.verifier(b, "")
	coldTime := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		verifyAllPass(b, cold, e.pkgs)
		coldTime = min(coldTime, time.Since(start))
	}
	b.ReportMetric(0, "sidecar-requests")
	b.ReportMetric(float64(coldTime.Milliseconds()), "cold-ms")
	b.ReportMetric(100*float64(warmTime)/float64(coldTime), "warm-%-of-cold")
}

// sampleHeap records the largest heap in use (live and not yet swept
// objects, as runtime.MemStats.HeapInuse counts them) into *peak until the
// returned function is called. runtime/metrics does not stop the world.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			*peak = max(*peak, samples[0].Value.Uint64()+samples[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
