package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/spf13/cobra"
)

// maxJobs bounds --jobs.
const maxJobs = 1024

func newVerifyEnvCommand() *cobra.Command {
	var f verifyFlags
	var platforms []string
	cmd := &cobra.Command{
		Use:   "verify-env [flags] FILE",
		Short: "Verify every conda package of a lock file or explicit file",
		Long: `Verify every conda package of an environment: FILE is a conda explicit file
(conda list --explicit), a pixi.lock or a conda-lock.yml; the format is read
from the content. Each package's record is read from its channel's
repodata.json (once per channel and subdir), then its attestations are
verified as by verify. A hash in FILE that differs from the channel's record
fails the package.

The attestations are checked against each entry's sha256, the hash the
installer checks the bytes against. An entry without one (a hashless or
md5-only explicit line, as conda list --explicit writes by default) binds
nothing: it fails under --require error and warns otherwise (lock-unbound).
So does a conda-lock.yml entry, since conda-lock install checks md5 hashes
only, unless --installer-checks-sha256 says it is installed by micromamba or
pixi. Write explicit files with conda list --explicit --sha256, or pass
--download-unhashed to download such packages, hash them and verify those
bytes (--keep-downloads DIR keeps those that do not fail, in a directory of
your own, to install exactly what was verified).

Sidecars and verdicts are cached under --cache-dir (default <user cache
dir>/condasigs), and each repodata.json is kept there and revalidated with a
conditional request: re-verifying an unchanged environment needs no sidecar
request, no repodata download and no cryptography. A read-only cache is
read, not written. Verdicts and repodata are used only from a directory of
your own that no one else can write or replace; otherwise only sidecars are
read (they are hashed on every read), nothing is written, and a warning
says why.

A progress bar is drawn on stderr when it is a terminal. The summary lists
the failures and warnings; --format json prints every report; --format
sarif writes a SARIF 2.1.0 log for code scanning, each failure or warning
a result at the line of FILE that lists its package (FILE as given: a
relative path is relative to %SRCROOT%, the working directory); --format
markdown writes a summary table for a CI step summary. A package
that could not be verified (the channel did not answer within --timeout)
is reported as failed, with status error and the error. Names, URLs and
messages from channels, certificates and the lock file are printed with
control, format and bidirectional characters escaped (\n, \x1b, \u202e).

A FILE with no conda package, and a --platform that FILE has no package
for, are usage errors: a gate that verifies nothing must not pass.

` + verifyEnvHelp + `

Exit status: 0 when every package passes (warnings allowed), 1 when any
fails the policy, 2 for usage, configuration, lock-file or trust-root
problems, and when a package could not be verified.`,
		Example: `  condasigs verify-env --config condasigs.yaml pixi.lock
  condasigs verify-env --identity 'https://github.com/conda-forge/*' --issuer github \
    --platform linux-64 --format json conda-lock.yml
  condasigs verify-env --config condasigs.yaml --format sarif pixi.lock > condasigs.sarif
  condasigs verify-env --config condasigs.yaml --format markdown pixi.lock >> "$GITHUB_STEP_SUMMARY"`,
		Args: wantArgs(1, 1, "one lock file (a conda explicit file, a pixi.lock or a conda-lock.yml)", "condasigs verify-env pixi.lock"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyEnv(cmd, f, platforms, args[0])
		},
	}
	addPolicyFlags(cmd, &f)
	fl := cmd.Flags()
	addEnvChannelFlag(fl, &f)
	fl.Lookup("format").Usage = envFormatUsage
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "verifications at once (default: the number of CPUs); retrievals run 4 times as many")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the sidecar and verdict caches")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "directory of the sidecar, verdict and repodata caches (default <user cache dir>/condasigs)")
	fl.StringArrayVar(&platforms, "platform", nil, "verify only the packages FILE installs on this platform, e.g. linux-64, whatever their URLs say (repeatable; default: all); FILE must have packages for it")
	fl.BoolVar(&f.downloadUnhashed, "download-unhashed", false, "download each package whose entry gives no sha256, hash it and verify the attestations against those bytes (streamed, capped by the record's size, not kept)")
	fl.BoolVar(&f.installerChecksSHA256, "installer-checks-sha256", false, "a conda-lock.yml is installed by a tool that checks each package's sha256 (micromamba, pixi), not by conda-lock install, which checks the md5 only")
	fl.StringVar(&f.keepDownloads, "keep-downloads", "", "with --download-unhashed, keep the downloaded packages that agree with their records in this directory, to install exactly the bytes verified")
	return cmd
}

func runVerifyEnv(cmd *cobra.Command, f verifyFlags, platforms []string, file string) error {
	if err := checkFlags(cmd, f); err != nil {
		return err
	}
	if f.jobs < 0 || f.jobs > maxJobs {
		return usageError("--jobs must be between 1 and %d, not %d", maxJobs, f.jobs)
	}
	if f.noCache && f.cacheDir != "" {
		return usageError("--no-cache and --cache-dir contradict each other: give one")
	}
	if f.keepDownloads != "" && !f.downloadUnhashed {
		return usageError("--keep-downloads keeps what --download-unhashed downloads: give both")
	}
	if f.keepDownloads != "" {
		// What is kept there gets installed: no one else may swap it.
		if err := cachedir.Check(f.keepDownloads); err != nil {
			return usageError("--keep-downloads %s: %v: keep the downloads in a directory of your own that no one else can write", f.keepDownloads, reasonOf(err))
		}
	}
	lf, err := lockfile.Read(file)
	if err != nil {
		return problem("%v", err)
	}
	pkgs, err := selectPlatforms(lf, platforms)
	if err != nil {
		return err
	}
	if err := checkEnvChannel(lf.Name, f.channel, pkgs); err != nil {
		return err
	}
	if !f.noCache {
		if f.cacheDir == "" {
			f.cacheDir = defaultCacheDir()
		}
		if f.cacheDir != "" {
			var warning string
			f.caches, warning = openCacheDir(f.cacheDir)
			if warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "condasigs: warning:", warning)
			}
		}
	} else {
		f.cacheDir = ""
	}
	s, err := openSession(cmd, f, nil, false)
	if err != nil {
		return err
	}
	defer s.close()

	bar := progressBarOn(cmd.ErrOrStderr())
	jobs := f.jobs
	results := s.v.VerifyLocked(cmd.Context(), pkgs, condasigs.BatchOptions{Workers: jobs, Fetchers: 4 * jobs,
		DownloadUnhashed: f.downloadUnhashed, DownloadDir: f.keepDownloads, InstallerChecksSHA256: f.installerChecksSHA256, Channel: f.channel,
		Progress: func(done, total int, r condasigs.Result) {
			bar.update(done, total, r.Package.Record.Filename)
		}})
	bar.clear() // VerifyLocked has returned: no update runs any more

	env := newEnvReport(file, lf, pkgs, results)
	env.pinned = f.pins != ""
	if err := renderEnv(cmd.OutOrStdout(), f.format, env); err != nil {
		return problem("writing the report: %v", err)
	}
	warnUnpinned(cmd.ErrOrStderr(), f.pins, env)
	if unbound := countCode(env.Packages, policy.CodeLockUnbound); unbound > 0 && !f.downloadUnhashed {
		fix := "write it with `conda list --explicit --sha256`"
		if lf.Format == lockfile.FormatCondaLock {
			fix = "conda-lock install checks only md5 hashes; if you install it with micromamba or pixi, pass --installer-checks-sha256"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "condasigs: hint: %d entries of %s bind no sha256 that the installer checks, so nothing binds the attested packages to what gets installed; %s, or pass --download-unhashed to verify downloaded bytes\n", unbound, file, fix)
	}
	if n := env.Summary.Errors; n > 0 {
		return problem("%d of %d packages could not be verified: the report gives each one's error (status error, code %s)%s", n, len(pkgs), codeNotVerified, timeoutHint(cmd.Context(), f.timeout))
	}
	if env.Summary.Failed > 0 {
		return exitError{exitFail}
	}
	return nil
}

// progressBarOn is newProgressBar; tests draw the bar on a buffer.
var progressBarOn = newProgressBar

// selectPlatforms keeps the packages the lock file installs on the given
// platforms (lockfile.Package.Platforms: what the installer installs there,
// whatever the URLs say), and those it says nothing of; all of them when
// none is given. A lock file without packages, and a platform it has no
// package for (a typo, or another lock file than meant), are usage errors:
// a gate that verifies nothing must not pass.
func selectPlatforms(lf *lockfile.File, platforms []string) ([]lockfile.Package, error) {
	if len(lf.Packages) == 0 {
		skipped := ""
		if n := len(lf.Skipped); n > 0 {
			skipped = fmt.Sprintf(" (its %d entries are not channel packages)", n)
		}
		return nil, usageError("%s lists no conda package to verify%s: give the lock file or explicit file of the environment (e.g. from conda list --explicit --sha256)", lf.Name, skipped)
	}
	if len(platforms) == 0 {
		return lf.Packages, nil
	}
	var have []string
	for _, p := range lf.Packages {
		for _, pl := range p.Platforms {
			if !slices.Contains(have, pl) {
				have = append(have, pl)
			}
		}
	}
	slices.Sort(have)
	for _, want := range platforms {
		switch {
		case slices.Contains(have, want):
		case len(have) == 0:
			return nil, usageError("--platform %s: %s does not say which platform its packages are installed on (an explicit file without a \"# platform:\" line, or a pixi.lock whose environments list none of them): leave --platform out to verify them all",
				want, lf.Name)
		default:
			return nil, usageError("--platform %s: %s has no package for it; its packages are for %s: give one of those, or leave --platform out to verify them all",
				want, lf.Name, strings.Join(have, ", "))
		}
	}
	var out []lockfile.Package
	for _, p := range lf.Packages {
		if p.Platforms == nil || slices.ContainsFunc(p.Platforms, func(pl string) bool { return slices.Contains(platforms, pl) }) {
			out = append(out, p)
		}
	}
	return out, nil
}

// timeoutHint says how to give the run more time when ctx, bounded by
// --timeout, ran out.
func timeoutHint(ctx context.Context, timeout time.Duration) string {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ""
	}
	return fmt.Sprintf("; --timeout %s ran out: check that the channels answer, or give more time", timeout)
}

// countCode counts the packages with a reason of the given code.
func countCode(pkgs []envPackage, code policy.Code) int {
	n := 0
	for _, p := range pkgs {
		for _, r := range p.Report.Reasons {
			if r.Code == code {
				n++
				break
			}
		}
	}
	return n
}

// count adds one package to the summary: one not verified is failed, and
// counted in Errors too.
func (s *envSummary) count(r *condasigs.Report) {
	s.Total++
	if r.Status == statusError {
		s.Errors++
	}
	switch r.Outcome {
	case policy.Pass:
		s.Passed++
	case policy.Warn:
		s.Warned++
	default:
		s.Failed++
	}
}
