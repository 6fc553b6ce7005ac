package condasigs_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// batchEnv is a channel with good, unsigned and badly signed packages.
func batchEnv(t *testing.T, n int) (*env, []condasigs.Package) {
	t.Helper()
	e := newEnv(t)
	var pkgs []condasigs.Package
	for i := range n {
		name := fmt.Sprintf("pkg%d-1.0-0.conda", i)
		var rec fetch.Record
		switch i % 3 {
		case 0:
			rec = e.signed(t, name, san)
		case 1:
			rec = e.ch.Add(t, condasigstest.Package{Filename: name, Unsigned: true})
		default:
			rec = e.signed(t, name, "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main")
		}
		pkgs = append(pkgs, e.pkg(rec))
	}
	return e, pkgs
}

func TestVerifyAll(t *testing.T) {
	e, pkgs := batchEnv(t, 30)
	pkgs = append(pkgs, pkgs[0], pkgs[3]) // the same packages twice
	v := e.verifier(t, policy.Policy{Require: policy.ModeWarn})

	var calls atomic.Int64
	var last int
	results := v.VerifyAll(context.Background(), pkgs, condasigs.BatchOptions{Workers: 3, Fetchers: 5,
		Progress: func(done, total int, r condasigs.Result) {
			calls.Add(1)
			assert.Equal(t, len(pkgs), total)
			assert.Equal(t, last+1, done, "done counts up one at a time")
			last = done
		}})
	require.Len(t, results, len(pkgs))
	assert.Equal(t, int64(len(pkgs)), calls.Load())
	side := "/linux-64/" + pkgs[0].Record.Filename + ".sigs." + pkgs[0].Record.AttestationsSHA256
	assert.Equal(t, 1, e.ch.Requests(side), "a sidecar listed twice is fetched once")
	for i, r := range results {
		require.NoError(t, r.Err)
		assert.Equal(t, pkgs[i].Record.Filename, r.Report.Filename, "results in input order")
		one, err := v.Verify(context.Background(), pkgs[i])
		require.NoError(t, err)
		assert.Equal(t, one.Outcome, r.Report.Outcome, r.Report.Filename)
		assert.Equal(t, one.Status, r.Report.Status, r.Report.Filename)
	}
	assert.Equal(t, policy.Pass, results[0].Report.Outcome)
	assert.Equal(t, policy.StatusUnsigned, results[1].Report.Status)
	assert.Equal(t, policy.StatusVerificationFailure, results[2].Report.Status)
}

func TestVerifyAllCancel(t *testing.T) {
	e, pkgs := batchEnv(t, 40)
	v := e.verifier(t, policy.Policy{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := v.VerifyAll(ctx, pkgs, condasigs.BatchOptions{Workers: 1, Fetchers: 1,
		Progress: func(done, _ int, _ condasigs.Result) {
			if done == 5 {
				cancel()
			}
		}})
	require.Len(t, results, len(pkgs))
	finished, canceled := 0, 0
	for i, r := range results {
		assert.Equal(t, pkgs[i], r.Package)
		switch {
		case r.Err == nil:
			require.NotNil(t, r.Report)
			finished++
		default:
			assert.ErrorIs(t, r.Err, context.Canceled)
			assert.Nil(t, r.Report)
			canceled++
		}
	}
	assert.GreaterOrEqual(t, finished, 5, "what finished is kept")
	assert.Positive(t, canceled, "the rest is not verified")
	assert.Equal(t, len(pkgs), finished+canceled)
}

func TestVerifyAllMisuseIsPerPackage(t *testing.T) {
	e, pkgs := batchEnv(t, 3)
	pkgs = append(pkgs, condasigs.Package{}) // no filename
	results := e.verifier(t, policy.Policy{}).VerifyAll(context.Background(), pkgs, condasigs.BatchOptions{})
	assert.Error(t, results[3].Err)
	assert.Nil(t, results[3].Report)
	for _, r := range results[:3] {
		assert.NoError(t, r.Err)
	}
}

// A batch keeps a sidecar only while a job still needs it: the live heap
// does not grow with the number of (large) sidecars verified so far.
func TestVerifyAllMemoryBounded(t *testing.T) {
	e := newEnv(t)
	var pkgs []condasigs.Package
	const n, size = 64, 1 << 20
	for i := range n {
		side := append([]byte("["), append(bytes.Repeat([]byte(" "), size), ']')...)
		side[1] = byte('0' + i%10) // distinct bytes, distinct digests
		side[2] = byte('0' + i/10)
		pkgs = append(pkgs, e.pkg(e.ch.Add(t, condasigstest.Package{Filename: fmt.Sprintf("p%d-1.0-0.conda", i), Sidecar: side})))
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	results := e.verifier(t, policy.Policy{}).VerifyAll(context.Background(), pkgs, condasigs.BatchOptions{Workers: 1, Fetchers: 2,
		Progress: func(done, _ int, _ condasigs.Result) {
			if done%8 == 0 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}})
	for _, r := range results {
		require.NoError(t, r.Err)
		assert.Equal(t, policy.StatusRetrievalFailure, r.Report.Status, "not a JSON array of bundles")
	}
	grown := int64(peak) - int64(base.HeapAlloc)
	assert.Less(t, grown, int64(16*size), "live heap grew by %d MiB over %d sidecars of 1 MiB", grown>>20, n)
}
