package condasigs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expected is the verdict one package must get, whoever verifies it.
type expected struct {
	outcome policy.Outcome
	status  policy.Status
	codes   []string
}

// checkReport compares a report with what its package must get, and
// returns "" or what differs (usable from any goroutine).
func checkReport(pkg condasigs.Package, rep *condasigs.Report, err error, want expected) string {
	codes := []string{}
	if rep != nil {
		codes = reasonCodes(rep)
		if codes == nil {
			codes = []string{}
		}
	}
	switch {
	case err != nil:
		return pkg.Record.Filename + ": Go error: " + err.Error()
	case rep == nil:
		return pkg.Record.Filename + ": no report"
	case rep.Filename != pkg.Record.Filename:
		return pkg.Record.Filename + ": the report is for " + rep.Filename
	case rep.Outcome != want.outcome || rep.Status != want.status || strings.Join(codes, ",") != strings.Join(want.codes, ","):
		return pkg.Record.Filename + ": got " + string(rep.Outcome) + "/" + string(rep.Status) + " [" + strings.Join(codes, ",") +
			"], want " + string(want.outcome) + "/" + string(want.status) + " [" + strings.Join(want.codes, ",") + "]"
	case (rep.Outcome == policy.Pass) != (rep.Signer != nil):
		return pkg.Record.Filename + ": a signer without a pass, or a pass without a signer"
	}
	return ""
}

// TestVerify64Goroutines shares one Verifier between 64 goroutines that
// verify a mix of good and bad packages, twice each, with a VerifyAll batch
// of all of them running beside (run with -race). Every result is checked.
func TestVerify64Goroutines(t *testing.T) {
	e := newEnv(t)
	other := condasigstest.NewSigstore(t)
	type item struct {
		pkg  condasigs.Package
		want expected
	}
	fail := func(status policy.Status, codes ...string) expected {
		return expected{policy.Fail, status, codes}
	}
	pass := expected{policy.Pass, policy.StatusVerified, []string{}}
	victim := e.signed(t, "victim-1.0-0.conda", san)
	replaced := e.signed(t, "replaced-1.0-0.conda", san)
	require.NoError(t, os.WriteFile(filepath.Join(e.ch.Dir, "linux-64", replaced.Filename+".sigs."+replaced.AttestationsSHA256), []byte("[{}]"), 0o644))
	items := []item{
		{e.pkg(e.signed(t, "good-1.0-0.conda", san)), pass},
		{e.pkg(e.signed(t, "good-2.0-0.conda", san)), pass},
		{e.pkg(victim), pass},
		{e.pkg(e.signed(t, "evil-1.0-0.conda", "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main")),
			fail(policy.StatusVerificationFailure, "no-trusted-bundle", "untrusted-identity")},
		{e.pkg(e.ch.Add(t, condasigstest.Package{Filename: "foreign-1.0-0.conda", Signer: other, Identity: san, Issuer: issuer, TargetChannel: e.url})),
			fail(policy.StatusVerificationFailure, "no-trusted-bundle", "tlog")},
		{e.pkg(e.ch.Add(t, condasigstest.Package{Filename: "replay-1.0-0.conda",
			Bundles: [][]byte{e.ss.Bundle(t, san, issuer, condasigstest.Statement(victim.Filename, victim.SHA256, e.url))}})),
			fail(policy.StatusVerificationFailure, "no-trusted-bundle", "subject-name")},
		{e.pkg(e.ch.Add(t, condasigstest.Package{Filename: "garbage-1.0-0.conda", Sidecar: []byte("<html>")})),
			fail(policy.StatusRetrievalFailure, "malformed")},
		{e.pkg(e.ch.Add(t, condasigstest.Package{Filename: "gone-1.0-0.conda", Bundles: [][]byte{[]byte("{}")}, NoSidecarFile: true})),
			fail(policy.StatusRetrievalFailure, "not-found")},
		{e.pkg(replaced), fail(policy.StatusRetrievalFailure, "hash-mismatch")},
		{e.pkg(e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})),
			fail(policy.StatusUnsigned, "unsigned")},
	}
	v := e.verifier(t, policy.Policy{})

	const goroutines, rounds = 64, 2
	problems := make(chan string, goroutines*rounds+len(items)*4)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for r := range rounds {
				it := items[(g+r*7)%len(items)]
				rep, err := v.Verify(context.Background(), it.pkg)
				if p := checkReport(it.pkg, rep, err, it.want); p != "" {
					problems <- p
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		var batch []condasigs.Package
		for range 4 {
			for _, it := range items {
				batch = append(batch, it.pkg)
			}
		}
		for i, res := range v.VerifyAll(context.Background(), batch, condasigs.BatchOptions{}) {
			if p := checkReport(batch[i], res.Report, res.Err, items[i%len(items)].want); p != "" {
				problems <- "VerifyAll: " + p
			}
		}
	})
	close(start)
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
}

// gatedChannel serves a channel's directory and holds every sidecar request
// until the gate opens, to catch verifications in the middle of their run.
type gatedChannel struct {
	url     string
	arrived chan struct{} // one value per sidecar request received
	mu      sync.Mutex
	gate    chan struct{} // closed: requests proceed
}

func serveGated(t *testing.T, dir string) *gatedChannel {
	g := &gatedChannel{arrived: make(chan struct{}, 1024), gate: make(chan struct{})}
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, ".sigs.") {
			g.mu.Lock()
			gate := g.gate
			g.mu.Unlock()
			g.arrived <- struct{}{}
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.open) // never leave a handler waiting
	g.url = srv.URL
	return g
}

func (g *gatedChannel) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.gate:
	default:
		close(g.gate)
	}
}

// TestTrustRootRefreshDuringVerifications swaps a Source's snapshot from A
// to B while verifications run. A verification uses the snapshot it started
// with from start to end: a bundle of A passes iff its report says A. No
// verification may see a mix of both or fail with a Go error.
func TestTrustRootRefreshDuringVerifications(t *testing.T) {
	sA, sB := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	gc := serveGated(t, ch.Dir)
	pkgA := condasigs.Package{URL: gc.url + "/linux-64/by-a-1.0-0.conda", Record: ch.Add(t, condasigstest.Package{Filename: "by-a-1.0-0.conda", Signer: sA, Identity: san, Issuer: issuer, TargetChannel: gc.url})}
	pkgB := condasigs.Package{URL: gc.url + "/linux-64/by-b-1.0-0.conda", Record: ch.Add(t, condasigstest.Package{Filename: "by-b-1.0-0.conda", Signer: sB, Identity: san, Issuer: issuer, TargetChannel: gc.url})}
	snapA := &trustroot.Snapshot{Material: sA.TrustedMaterial(), Info: trustroot.Info{Kind: "static", Source: "A"}}
	snapB := &trustroot.Snapshot{Material: sB.TrustedMaterial(), Info: trustroot.Info{Kind: "static", Source: "B"}}
	src := &swapSource{}
	src.snap.Store(snapA)
	v, err := condasigs.New(condasigs.Options{Trust: src, Policy: policy.Policy{Identities: trusted},
		Fetcher: fetch.New(fetch.Options{RetryMax: -1, Timeout: 20 * time.Second})})
	require.NoError(t, err)

	// consistent checks one result against the snapshot its report names.
	consistent := func(pkg condasigs.Package, rep *condasigs.Report, err error) (string, string) {
		if err != nil {
			return "", pkg.Record.Filename + ": Go error: " + err.Error()
		}
		if rep.TrustRoot == nil {
			return "", pkg.Record.Filename + ": no trust root in the report"
		}
		seen := rep.TrustRoot.Source
		mine, ok := map[string]condasigs.Package{"A": pkgA, "B": pkgB}[seen]
		if !ok {
			return "", pkg.Record.Filename + ": verified against an unknown snapshot " + seen
		}
		want := expected{policy.Fail, policy.StatusVerificationFailure, []string{"no-trusted-bundle", "tlog"}}
		if pkg.Record.Filename == mine.Record.Filename {
			want = expected{policy.Pass, policy.StatusVerified, []string{}}
		}
		if p := checkReport(pkg, rep, nil, want); p != "" {
			return seen, p + " (verified against snapshot " + seen + ")"
		}
		return seen, ""
	}

	t.Run("refresh while verifications are in flight", func(t *testing.T) {
		const n = 32
		type result struct {
			pkg condasigs.Package
			rep *condasigs.Report
			err error
		}
		results := make(chan result, n)
		for i := range n {
			pkg := pkgA
			if i%2 == 1 {
				pkg = pkgB
			}
			go func() {
				rep, err := v.Verify(context.Background(), pkg)
				results <- result{pkg, rep, err}
			}()
		}
		// Every verification has taken its snapshot and fetched nothing yet.
		for range n {
			select {
			case <-gc.arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the sidecar requests did not all arrive")
			}
		}
		src.snap.Store(snapB)
		gc.open()
		for range n {
			r := <-results
			seen, p := consistent(r.pkg, r.rep, r.err)
			assert.Empty(t, p)
			assert.Equal(t, "A", seen, "a verification already running keeps the snapshot it started with")
		}
		// Verifications started after the refresh use B.
		for _, pkg := range []condasigs.Package{pkgA, pkgB} {
			rep, err := v.Verify(context.Background(), pkg)
			seen, p := consistent(pkg, rep, err)
			assert.Empty(t, p)
			assert.Equal(t, "B", seen)
		}
	})

	t.Run("refreshes back and forth under load", func(t *testing.T) {
		gc.open()
		stop := make(chan struct{})
		var swapper sync.WaitGroup
		swapper.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Microsecond):
				}
				if i%2 == 0 {
					src.snap.Store(snapA)
				} else {
					src.snap.Store(snapB)
				}
			}
		})
		const goroutines, rounds = 64, 3
		problems := make(chan string, goroutines*rounds+64)
		var seenA, seenB atomic.Int32
		note := func(seen, p string) {
			if p != "" {
				problems <- p
			}
			switch seen {
			case "A":
				seenA.Add(1)
			case "B":
				seenB.Add(1)
			}
		}
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for r := range rounds {
					pkg := pkgA
					if (g+r)%2 == 1 {
						pkg = pkgB
					}
					rep, err := v.Verify(context.Background(), pkg)
					note(consistent(pkg, rep, err))
				}
			})
		}
		wg.Go(func() { // a batch, whose packages each take their own snapshot
			batch := []condasigs.Package{pkgA, pkgB, pkgA, pkgB, pkgA, pkgB, pkgA, pkgB}
			for _, res := range v.VerifyAll(context.Background(), batch, condasigs.BatchOptions{Workers: 2, Fetchers: 4}) {
				note(consistent(res.Package, res.Report, res.Err))
			}
		})
		wg.Wait()
		close(stop)
		swapper.Wait()
		close(problems)
		for p := range problems {
			t.Error(p)
		}
		t.Logf("verifications against A: %d, against B: %d", seenA.Load(), seenB.Load())
		assert.Positive(t, seenA.Load())
		assert.Positive(t, seenB.Load())
	})
}
