package condasigs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// lockState is what resolving a lock file's entry found out before
// verification: the package's record could not be read, the lock file
// contradicts it, or the entry cannot be used at all.
type lockState struct {
	misuse      error          // returned as the Result's error
	unavailable error          // policy.Input.RecordUnavailable
	mismatch    *policy.Reason // a hard failure
	unbound     error          // policy.Input.Unbound
	note        *policy.Reason // what a download verified, added to the report
	kept        *keptFile      // the download, kept once the verdict allows
}

// maxRepodataScans bounds the repodata documents VerifyLocked reads at
// once.
const maxRepodataScans = 64

// VerifyLocked verifies the packages a lock file names (see
// lockfile.Read), as VerifyAll does, with results in the order of
// locked. Each package's record is read from its channel's repodata.json,
// which is fetched once per channel and subdir, and only for channels whose
// policy is enabled. A package the repodata does not list, or whose
// repodata cannot be read, is a retrieval failure (code
// "record-unavailable"), decided by the require table. A hash in the lock
// file that differs from the record's fails the package (code
// "lock-mismatch"): the lock file and the channel disagree on what the
// package is.
//
// A pass must be about the bytes the installer will install, and the
// installer checks them against the lock entry's hash only. So the
// attestations are checked against the entry's sha256, and an entry
// without one (a hashless or md5-only line of an explicit file) is not
// bound to them: it fails under require: error and warns otherwise (code
// "lock-unbound"), unless opts.DownloadUnhashed downloads the package and
// the attestations are checked against the downloaded bytes.
func (v *Verifier) VerifyLocked(ctx context.Context, locked []lockfile.Package, opts BatchOptions) []Result {
	pkgs := make([]Package, len(locked))
	groups := map[string][]int{} // repodata URL → indexes into locked
	for i, lp := range locked {
		loc, err := conda.SplitPackageURL(lp.URL)
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
	// Each scan holds under 512 KiB (fetch.ScanRepodata), so repodata
	// memory is bounded by maxRepodataScans of them, whatever Fetchers.
	sem := make(chan struct{}, min(fetchers, maxRepodataScans))
	var wg sync.WaitGroup
	for url, idx := range groups {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			v.resolveGroup(ctx, url, idx, locked, pkgs, opts)
		})
	}
	wg.Wait()
	if opts.DownloadUnhashed {
		v.downloadUnhashed(ctx, locked, pkgs, fetchers, opts.DownloadDir)
	}
	results := v.VerifyAll(ctx, pkgs, opts)
	keepDownloads(pkgs, results)
	return results
}

// resolveGroup reads one repodata.json and fills in the records of the
// packages at idx, which all live in it.
func (v *Verifier) resolveGroup(ctx context.Context, url string, idx []int, locked []lockfile.Package, pkgs []Package, opts BatchOptions) {
	// The first record of each wanted file, and how often it is listed:
	// memory stays one record a package, however often a hostile document
	// repeats it.
	type hit struct {
		rec fetch.Record
		n   int
	}
	found := make(map[string]*hit, len(idx))
	for _, i := range idx {
		found[pkgs[i].Record.Filename] = &hit{}
	}
	body, err := v.fetcher.OpenRepodata(ctx, url)
	if err == nil {
		// The whole document is read: a filename listed twice must be seen.
		err = fetch.ScanRepodata(body, func(rec fetch.Record) bool {
			if h, ok := found[rec.Filename]; ok {
				if h.n == 0 {
					h.rec = rec
				}
				h.n++
			}
			return true
		})
		body.Close()
	}
	where := conda.Redact(url)
	for _, i := range idx {
		p := &pkgs[i]
		h := found[p.Record.Filename]
		switch {
		case ctx.Err() != nil:
			p.lock = &lockState{misuse: fmt.Errorf("condasigs: %w", ctx.Err())}
		case err != nil && (fetch.KindOf(err) == "" || fetch.KindOf(err) == fetch.KindInvalidURL):
			p.lock = &lockState{misuse: fmt.Errorf("condasigs: %w", err)}
		case err != nil:
			p.lock = &lockState{unavailable: err}
		case h.n == 0:
			p.lock = &lockState{unavailable: fmt.Errorf("%s does not list %s: the lock file names a package the channel no longer has", where, p.Record.Filename)}
		case h.n > 1:
			p.lock = &lockState{unavailable: fmt.Errorf("%s lists %s %d times, and installers disagree on which record wins", where, p.Record.Filename, h.n)}
		default:
			p.Record = h.rec
			p.lock = checkLocked(locked[i], h.rec, opts)
			// The digest the installer checks the bytes against.
			p.ArtifactSHA256 = locked[i].SHA256
		}
	}
}

// checkLocked compares a lock file's hashes with the channel's record, and
// says whether the entry binds the package's bytes: it does when its
// installer checks its sha256, or when the caller's installer checks the
// record's (InstallerChecksRecords).
func checkLocked(lp lockfile.Package, rec fetch.Record, opts BatchOptions) *lockState {
	for _, h := range []struct{ name, lock, rec string }{{"sha256", lp.SHA256, rec.SHA256}, {"md5", lp.MD5, rec.MD5}} {
		if h.lock != "" && h.rec != "" && !strings.EqualFold(h.lock, h.rec) {
			return &lockState{mismatch: &policy.Reason{Rule: policy.RuleLock, Code: "lock-mismatch", Severity: policy.SeverityError,
				Message: fmt.Sprintf("the lock file gives %s %s for %s but the channel's repodata lists %s: the lock file and the channel disagree on what the package is; re-lock, or find out why the channel changed", h.name, h.lock, rec.Filename, h.rec)}}
		}
	}
	if installerChecksSHA256(lp, opts) || (opts.InstallerChecksRecords && rec.SHA256 != "") {
		return &lockState{}
	}
	return &lockState{unbound: errUnbound(lp)}
}

// installerChecksSHA256 reports whether the installer of lp's lock file
// checks the package bytes against the entry's sha256: conda (an explicit
// line with a sha256) and pixi do; conda-lock install does not, since it
// installs through an explicit file that it writes with the md5 only.
func installerChecksSHA256(lp lockfile.Package, opts BatchOptions) bool {
	return lp.SHA256 != "" && (lp.Format != lockfile.FormatCondaLock || opts.InstallerChecksSHA256)
}

// errUnbound says why a lock entry binds nothing, and how to fix it.
func errUnbound(lp lockfile.Package) error {
	if lp.SHA256 != "" && lp.Format == lockfile.FormatCondaLock {
		return errors.New("conda-lock install checks only the md5 of each package (it installs through an explicit file it writes with #md5), so it will not check the bytes against the SHA-256 the attestations name; " +
			"install with a tool that checks sha256 (micromamba, pixi) and say so (BatchOptions.InstallerChecksSHA256), or use an explicit file with sha256 (conda list --explicit --sha256) or a pixi.lock, or download and hash the package before verifying it (BatchOptions.DownloadUnhashed)")
	}
	gives := "no hash"
	if lp.MD5 != "" {
		gives = "only an md5"
	}
	return fmt.Errorf("the lock file gives %s for this package, so the installer will not check the bytes it installs against the SHA-256 the attestations name; "+
		"write the lock file with sha256 hashes (conda list --explicit --sha256, or a pixi.lock), or download and hash the package before verifying it (BatchOptions.DownloadUnhashed)", gives)
}
