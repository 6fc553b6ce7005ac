package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// newEnvReport is the report of verifying the packages pkgs of the lock
// file lf, read from file, with results in their order. Every package is
// in it, those the run could not decide on too: failed, with status error
// and the error as their reason.
func newEnvReport(file string, lf *lockfile.File, pkgs []lockfile.Package, results []condasigs.Result) envReport {
	env := envReport{Version: reportVersion, Input: &envInput{File: file, Format: string(lf.Format)}, Packages: []envPackage{}, Skipped: lf.Skipped}
	for i, r := range results {
		rep := r.Report
		if r.Err != nil || rep == nil {
			err := r.Err
			if err == nil {
				err = errors.New("no report")
			}
			rep = errorReport(pkgs[i].URL, err)
		}
		env.Packages = append(env.Packages, envPackage{Report: rep, Line: pkgs[i].Line})
		env.Summary.count(rep)
		env.Summary.addSource(rep)
	}
	env.Summary.Skipped = len(lf.Skipped) + len(lf.Packages) - len(pkgs)
	return env
}

// pinLockFlags are pin's flags for a lock file.
type pinLockFlags struct {
	platforms []string
	replace   bool
}

// lockFileArg returns the lock file pin's arguments name, if they name
// one: a single argument that is not a URL. Package URLs and a lock file
// do not mix, and a package file is not a lock file.
func lockFileArg(args []string) (file string, ok bool, err error) {
	var paths []string
	for _, a := range args {
		if !strings.Contains(a, "://") {
			paths = append(paths, a)
		}
	}
	switch {
	case len(paths) == 0:
		return "", false, nil
	case len(paths) < len(args):
		return "", false, usageError("%s is not a URL, and a lock file and PACKAGE-URLs do not mix: give one lock file, or package URLs only%s", paths[0], fileURLHint(paths[0], "file"))
	case len(paths) > 1:
		return "", false, usageError("pin takes one lock file, but got %d (%s): pin them one at a time, each into the pin file beside it", len(paths), strings.Join(paths, " "))
	}
	if isPackageFileName(paths[0]) {
		return "", false, usageError("%s is a package file, not a lock file: give the lock file that lists it, or the package's URL%s", paths[0], fileURLHint(paths[0], "file"))
	}
	return paths[0], true, nil
}

// isPackageFileName reports whether name ends as a conda package file does.
func isPackageFileName(name string) bool {
	return strings.HasSuffix(name, ".conda") || strings.HasSuffix(name, ".tar.bz2")
}

// checkPinURLFlags refuses the lock-file flags of pin given with package
// URLs: they would be ignored.
func checkPinURLFlags(cmd *cobra.Command) error {
	for _, name := range []string{"platform", "installer-checks-sha256"} {
		if cmd.Flags().Changed(name) {
			return usageError("--%s is for a lock file; with PACKAGE-URLs, leave it out", name)
		}
	}
	return nil
}

// runPinLockFile verifies every package of the lock file at file, as
// verify-env does, and pins the signer of each one that does not fail, as
// pin does for package URLs. The exit status is verify-env's, and 1 when
// a pinned signer changed (without --replace).
func runPinLockFile(cmd *cobra.Command, f verifyFlags, lf pinLockFlags, store *policy.PinStore, file string) error {
	if err := checkFlags(cmd, f); err != nil {
		return err
	}
	fl := cmd.Flags()
	for _, name := range []string{"artifact", "repodata"} {
		if fl.Changed(name) {
			return usageError("--%s is for PACKAGE-URLs: a lock file's entries give their own hashes, and its packages' records are read from their channels; leave --%s out", name, name)
		}
	}
	locked, err := lockfile.Read(file)
	if err != nil {
		return problem("%v", err)
	}
	pkgs, err := selectPlatforms(locked, lf.platforms)
	if err != nil {
		return err
	}
	if err := checkEnvChannel(locked.Name, f.channel, pkgs); err != nil {
		return err
	}
	s, err := openSession(cmd, f, nil, true)
	if err != nil {
		return err
	}
	defer s.close()

	bar := progressBarOn(cmd.ErrOrStderr())
	results := s.v.VerifyLocked(cmd.Context(), pkgs, condasigs.BatchOptions{InstallerChecksSHA256: f.installerChecksSHA256, Channel: f.channel,
		Progress: func(done, total int, r condasigs.Result) {
			bar.update(done, total, r.Package.Record.Filename)
		}})
	bar.clear()

	env := newEnvReport(file, locked, pkgs, results)
	reports := make([]*condasigs.Report, len(env.Packages))
	for i, p := range env.Packages {
		reports[i] = p.Report
	}
	changed, conflicts := applyPins(cmd, store, reports, lf.replace)
	lost, err := savePins(cmd, store, changed)
	if err != nil {
		return err
	}
	conflicts += lost
	if err := renderEnv(cmd.OutOrStdout(), f.format, env); err != nil {
		return problem("writing the report: %v", err)
	}
	if n := env.Summary.Errors; n > 0 {
		return problem("%d of %d packages could not be verified, so their signers are not pinned: the report gives each one's error (status error, code %s)%s", n, len(pkgs), codeNotVerified, timeoutHint(cmd.Context(), f.timeout))
	}
	if env.Summary.Failed > 0 || conflicts > 0 {
		return exitError{exitFail}
	}
	return nil
}

// savePins writes the store when changed pins were recorded, and reports
// the pins another run recorded first (reportLostPins); it returns their
// number.
func savePins(cmd *cobra.Command, store *policy.PinStore, changed int) (int, error) {
	if changed == 0 {
		return 0, nil
	}
	if err := store.Save(); err != nil {
		var lost *policy.PinConflictError
		if !errors.As(err, &lost) {
			return 0, problem("%v", err)
		}
		return reportLostPins(cmd, lost), nil
	}
	return 0, nil
}
