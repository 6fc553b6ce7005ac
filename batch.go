package condasigs

import (
	"context"
	"runtime"
	"slices"
	"sync"
)

// maxPool bounds BatchOptions.Fetchers and Workers.
const maxPool = 1024

// BatchOptions tune VerifyAll.
type BatchOptions struct {
	// Fetchers bounds the sidecar retrievals in flight (default
	// 4×GOMAXPROCS, at most 1024): network waits overlap with
	// verification.
	Fetchers int
	// Workers bounds the verifications running at once (default
	// GOMAXPROCS, at most 1024): verification is cryptography, bound by
	// cores.
	Workers int
	// Progress, if set, is called after each package, from one goroutine
	// at a time, with the number done, the total and the package's result.
	Progress func(done, total int, r Result)

	// DownloadUnhashed, for VerifyLocked, downloads each package whose
	// lock entry binds no sha256 (at most Fetchers at a time, streamed,
	// capped by the record's size, hashed, not kept), and checks its
	// attestations against the downloaded bytes' SHA-256; bytes that
	// contradict the record's or the entry's sha256, md5 or size fail the
	// package. Without it such entries are not bound to the attestations
	// (code "lock-unbound"). A download vouches for the bytes this server
	// sent this time: the installer's md5 check binds an md5 entry to
	// them, but a line without a hash stays unchecked at install time, so
	// such a package warns unless its bytes are kept with DownloadDir.
	DownloadUnhashed bool
	// DownloadDir, with DownloadUnhashed, keeps the download of each
	// package that does not fail in this directory under its file name,
	// to be installed from there. The directory is created if absent (mode
	// 0700) and must pass the rule of fetch.NewDirCache, or nothing is
	// kept and the packages stay unbound. A file is published only after
	// the verdict, and never replaces another. Empty means nothing is
	// kept.
	DownloadDir string
	// InstallerChecksRecords, for VerifyLocked, is the caller's promise
	// that whatever installs the packages checks each file's bytes
	// against the sha256 of Result.Package.Record, the record the
	// attestations were checked against: a package manager's own
	// preflight, which installs from those records. Entries without
	// sha256 are then bound by their record. Never set it for a lock file
	// that conda, pixi or another tool installs later: they check the
	// lock file's hashes only.
	InstallerChecksRecords bool
	// InstallerChecksSHA256, for VerifyLocked, is the caller's promise
	// that the conda-lock.yml files it verifies are installed by a tool
	// that checks each package's sha256 (micromamba, pixi), not by
	// conda-lock install, which checks the md5 only: their sha256 entries
	// then bind the attestations. Other formats need no such promise.
	InstallerChecksSHA256 bool
	// Channel, for VerifyLocked, is the URL of the channel every locked
	// package was published to, when the lock file's URLs point to a local
	// copy or a mirror of it: each attestation's targetChannel is compared
	// with it (see Package.Channel). Empty means each package's channel is
	// the channel part of its URL.
	Channel string
}

// Result is one package's outcome in a batch: its Report, or the error
// Verify would have returned (misuse, cancellation, unusable trust root).
type Result struct {
	Package Package
	Report  *Report
	Err     error
}

// VerifyAll verifies pkgs as a package manager's preflight does: all of a
// transaction before anything is installed. Retrievals and verifications
// run in two bounded pools; a sidecar shared by several packages (the same
// content-addressed URL) is fetched once. Results are in the order of pkgs.
// When ctx ends, packages not yet done get ctx's error in their Result and
// those done keep theirs.
func (v *Verifier) VerifyAll(ctx context.Context, pkgs []Package, opts BatchOptions) []Result {
	pkgs = slices.Clone(pkgs)
	locks := make([]*lockState, len(pkgs))
	v.readRecords(ctx, pkgs, locks, opts.Fetchers)
	return v.verifyAll(ctx, pkgs, locks, opts)
}

// verifyAll is VerifyAll once the records are read: locks says, for each
// package, what was found before verification (nil for nothing).
func (v *Verifier) verifyAll(ctx context.Context, pkgs []Package, locks []*lockState, opts BatchOptions) []Result {
	procs := runtime.GOMAXPROCS(0)
	if opts.Fetchers <= 0 {
		opts.Fetchers = 4 * procs
	}
	if opts.Workers <= 0 {
		opts.Workers = procs
	}
	opts.Fetchers, opts.Workers = min(opts.Fetchers, maxPool), min(opts.Workers, maxPool)
	results := make([]Result, len(pkgs))
	for i, p := range pkgs {
		results[i].Package = p
	}
	fetchOnce := newSidecarFlight(v.fetchSidecar)

	// Buffered, so that handing out work costs no context switch; the
	// fetchers check ctx before each package.
	todo := make(chan int, len(pkgs))
	fetched := make(chan int, opts.Workers)
	// Every job is started first (cheap: no I/O), so that the verdict
	// cache can answer for the whole batch with one read.
	jobs := make([]*job, len(pkgs))
	startErrs := make([]error, len(pkgs))
	var starters sync.WaitGroup
	for w := range procs {
		starters.Go(func() {
			for i := w; i < len(pkgs); i += procs {
				jobs[i], startErrs[i] = v.start(ctx, pkgs[i], locks[i])
			}
		})
	}
	starters.Wait()
	for i, j := range jobs {
		if startErrs[i] == nil && !j.done {
			fetchOnce.expect(j.pkg)
		}
	}
	verdicts := v.verdictBatch(ctx, jobs, startErrs)
	var mu sync.Mutex
	done := 0
	report := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		done++
		if opts.Progress != nil {
			opts.Progress(done, len(pkgs), results[i])
		}
	}

	var fetchers sync.WaitGroup
	for range opts.Fetchers {
		fetchers.Add(1)
		go func() {
			defer fetchers.Done()
			for i := range todo {
				if ctx.Err() != nil {
					continue // reported as canceled below
				}
				j, err := jobs[i], startErrs[i]
				if err == nil && !j.done {
					err = v.retrieve(ctx, j, fetchOnce.get)
					fetchOnce.release(j.pkg)
				}
				if err != nil {
					results[i].Err = err // no half-made report beside an error
					report(i)
					continue
				}
				switch {
				case j.done:
					results[i].Report = j.rep
				case !j.fetched:
					// No sidecar to verify (none advertised, none
					// retrieved, or evidence from the verdict cache): the
					// policy decides at once, without a worker.
					results[i].Report, results[i].Err = v.finish(ctx, j)
				default:
					fetched <- i
					continue
				}
				report(i)
			}
		}()
	}
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range fetched {
				results[i].Report, results[i].Err = v.finish(ctx, jobs[i])
				report(i)
			}
		}()
	}

	for i := range pkgs {
		todo <- i
	}
	close(todo)
	fetchers.Wait()
	close(fetched)
	workers.Wait()
	if ctx.Err() == nil {
		verdicts.Store(ctx)
	}
	if err := ctx.Err(); err != nil {
		for i := range results {
			if results[i].Report == nil && results[i].Err == nil {
				results[i].Err = err
			}
		}
	}
	return results
}

// sidecarFlight fetches each distinct sidecar URL once per batch; callers
// for the same URL share the result (it is no cache: see
// fetch.Options.Cache for that). A result is kept only until every job
// expected to use it has retrieved its sidecar, so that memory stays
// bounded by the jobs in flight, not by the size of the batch.
type sidecarFlight struct {
	fetch sidecarFetcher
	mu    sync.Mutex
	calls map[string]*sidecarCall
}

type sidecarCall struct {
	once  sync.Once
	data  []byte
	err   error
	users int // jobs that have not retrieved their sidecar yet
}

func newSidecarFlight(fetch sidecarFetcher) *sidecarFlight {
	return &sidecarFlight{fetch: fetch, calls: map[string]*sidecarCall{}}
}

func sidecarKey(pkg Package) string { return pkg.URL + "\x00" + pkg.Record.AttestationsSHA256 }

// call returns the call for pkg's sidecar, made if need be.
func (c *sidecarFlight) call(pkg Package) *sidecarCall {
	key := sidecarKey(pkg)
	c.mu.Lock()
	defer c.mu.Unlock()
	call, ok := c.calls[key]
	if !ok {
		call = &sidecarCall{}
		c.calls[key] = call
	}
	return call
}

// expect counts one more job that will retrieve pkg's sidecar.
func (c *sidecarFlight) expect(pkg Package) {
	call := c.call(pkg)
	c.mu.Lock()
	call.users++
	c.mu.Unlock()
}

// release records that a job expected to use pkg's sidecar is done
// retrieving it; the last one drops the result.
func (c *sidecarFlight) release(pkg Package) {
	key := sidecarKey(pkg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if call, ok := c.calls[key]; ok {
		if call.users--; call.users <= 0 {
			delete(c.calls, key)
		}
	}
}

func (c *sidecarFlight) get(ctx context.Context, pkg Package) ([]byte, error) {
	call := c.call(pkg)
	call.once.Do(func() { call.data, call.err = c.fetch(ctx, pkg) })
	return call.data, call.err
}
