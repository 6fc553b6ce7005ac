package condasigs

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
)

// lockState is what resolving a lock file's entry found out before
// verification: the package's record could not be read, the lock file
// contradicts it, or the entry cannot be used at all.
type lockState struct {
	misuse      error          // returned as the Result's error
	unavailable error          // policy.Input.RecordUnavailable
	mismatch    *policy.Reason // a hard failure
}

// VerifyLocked verifies the packages a lock file names (see
// fetch.ReadLockFile), as VerifyAll does, with results in the order of
// locked. Each package's record is read from its channel's repodata.json,
// which is fetched once per channel and subdir, and only for channels whose
// policy is enabled. A package the repodata does not list, or whose
// repodata cannot be read, is a retrieval failure (code
// "record-unavailable"), decided by the require table. A hash in the lock
// file that differs from the record's fails the package (code
// "lock-mismatch"): the lock file and the channel disagree on what the
// package is. The attestations are checked against the lock file's sha256
// when it has one, else against the record's.
func (v *Verifier) VerifyLocked(ctx context.Context, locked []fetch.LockedPackage, opts BatchOptions) []Result {
	pkgs := make([]Package, len(locked))
	groups := map[string][]int{} // repodata URL → indexes into locked
	for i, lp := range locked {
		loc, err := fetch.SplitPackageURL(lp.URL)
		if err != nil {
			pkgs[i] = Package{URL: lp.URL, lock: &lockState{misuse: fmt.Errorf("condasigs: lock file entry %d: %w", i+1, err)}}
			continue
		}
		pkgs[i] = Package{URL: lp.URL, Record: fetch.Record{Filename: loc.Filename}}
		if ci, err := v.channel(loc.Channel); err != nil || !ci.match.Enabled {
			continue // Verify reports the error, or the disabled channel
		}
		groups[loc.RepodataURL] = append(groups[loc.RepodataURL], i)
	}

	fetchers := opts.Fetchers
	if fetchers <= 0 {
		fetchers = 4 * runtime.GOMAXPROCS(0)
	}
	fetchers = min(fetchers, maxPool)
	sem := make(chan struct{}, fetchers)
	var wg sync.WaitGroup
	for url, idx := range groups {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			v.resolveGroup(ctx, url, idx, locked, pkgs)
		})
	}
	wg.Wait()
	return v.VerifyAll(ctx, pkgs, opts)
}

// resolveGroup reads one repodata.json and fills in the records of the
// packages at idx, which all live in it.
func (v *Verifier) resolveGroup(ctx context.Context, url string, idx []int, locked []fetch.LockedPackage, pkgs []Package) {
	found := make(map[string][]fetch.Record, len(idx))
	for _, i := range idx {
		found[pkgs[i].Record.Filename] = nil
	}
	body, err := v.fetcher.OpenRepodata(ctx, url)
	if err == nil {
		// The whole document is read: a filename listed twice must be seen.
		err = fetch.ScanRepodata(body, func(rec fetch.Record) bool {
			if recs, ok := found[rec.Filename]; ok {
				found[rec.Filename] = append(recs, rec)
			}
			return true
		})
		body.Close()
	}
	where := fetch.Redact(url)
	for _, i := range idx {
		p := &pkgs[i]
		recs := found[p.Record.Filename]
		switch {
		case ctx.Err() != nil:
			p.lock = &lockState{misuse: fmt.Errorf("condasigs: %w", ctx.Err())}
		case err != nil && (fetch.KindOf(err) == "" || fetch.KindOf(err) == fetch.KindInvalidURL):
			p.lock = &lockState{misuse: fmt.Errorf("condasigs: %w", err)}
		case err != nil:
			p.lock = &lockState{unavailable: err}
		case len(recs) == 0:
			p.lock = &lockState{unavailable: fmt.Errorf("%s does not list %s: the lock file names a package the channel no longer has", where, p.Record.Filename)}
		case len(recs) > 1:
			p.lock = &lockState{unavailable: fmt.Errorf("%s lists %s %d times, and installers disagree on which record wins", where, p.Record.Filename, len(recs))}
		default:
			p.Record = recs[0]
			p.lock = checkLocked(locked[i], recs[0])
			if p.Record.SHA256 == "" {
				p.ArtifactSHA256 = locked[i].SHA256
			}
		}
	}
}

// checkLocked compares a lock file's hashes with the channel's record.
func checkLocked(lp fetch.LockedPackage, rec fetch.Record) *lockState {
	for _, h := range []struct{ name, lock, rec string }{{"sha256", lp.SHA256, rec.SHA256}, {"md5", lp.MD5, rec.MD5}} {
		if h.lock != "" && h.rec != "" && !strings.EqualFold(h.lock, h.rec) {
			return &lockState{mismatch: &policy.Reason{Rule: "lock", Code: "lock-mismatch", Severity: policy.SeverityError,
				Message: fmt.Sprintf("the lock file gives %s %s for %s but the channel's repodata lists %s: the lock file and the channel disagree on what the package is; re-lock, or find out why the channel changed", h.name, h.lock, rec.Filename, h.rec)}}
		}
	}
	return nil
}
