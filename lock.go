package condasigs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// lockState is what was found out about a package before verification:
// its record was read (readRecords) or could not be, the lock file entry
// it comes from contradicts the record or binds nothing, a download
// replaced that binding, or the package cannot be used at all.
type lockState struct {
	misuse      error            // returned as the Result's error
	unavailable error            // policy.Input.RecordUnavailable
	mismatch    error            // policy.Input.LockMismatch
	artifact    error            // policy.Input.ArtifactMismatch: a download's
	unbound     error            // policy.Input.Unbound
	download    *policy.Download // policy.Input.Downloaded
	kept        *keptFile        // the download, kept once the verdict allows
	read        bool             // the record was read from the channel
	source      string           // the document it was read from (fetch.Found.Source)
}

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
	locks := make([]*lockState, len(locked))
	for i, lp := range locked {
		pkgs[i] = Package{URL: lp.URL, Channel: opts.Channel}
		if _, err := conda.SplitPackageURL(lp.URL); err != nil {
			locks[i] = &lockState{misuse: fmt.Errorf("condasigs: lock file entry %d: %w", i+1, err)}
		}
	}
	v.readRecords(ctx, pkgs, locks, opts.Fetchers)
	for i := range pkgs {
		if locks[i] != nil && locks[i].read {
			src := locks[i].source
			locks[i] = checkLocked(locked[i], pkgs[i].Record, opts)
			locks[i].source = src
			// The digest the installer checks the bytes against.
			pkgs[i].ArtifactSHA256 = locked[i].SHA256
		}
	}
	if opts.DownloadUnhashed {
		fetchers := opts.Fetchers
		if fetchers <= 0 {
			fetchers = 4 * runtime.GOMAXPROCS(0)
		}
		v.downloadUnhashed(ctx, locked, pkgs, locks, min(fetchers, maxPool), opts.DownloadDir)
	}
	results := v.verifyAll(ctx, pkgs, locks, opts)
	keepDownloads(locks, results)
	return results
}

// checkLocked compares a lock file's hashes with the channel's record, and
// says whether the entry binds the package's bytes: it does when its
// installer checks its sha256, or when the caller's installer checks the
// record's (InstallerChecksRecords).
func checkLocked(lp lockfile.Package, rec fetch.Record, opts BatchOptions) *lockState {
	for _, h := range []struct{ name, lock, rec string }{{"sha256", lp.SHA256, rec.SHA256}, {"md5", lp.MD5, rec.MD5}} {
		if h.lock != "" && h.rec != "" && !strings.EqualFold(h.lock, h.rec) {
			return &lockState{mismatch: fmt.Errorf("the lock file gives %s %s for %s but the channel's repodata lists %s: the lock file and the channel disagree on what the package is; re-lock, or find out why the channel changed", h.name, h.lock, rec.Filename, h.rec)}
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
