package main

import (
	"fmt"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/policy"
	"github.com/spf13/cobra"
)

func newPinCommand() *cobra.Command {
	var f verifyFlags
	var lf pinLockFlags
	cmd := &cobra.Command{
		Use:   "pin --pins FILE [flags] (LOCK-FILE | PACKAGE-URL...)",
		Short: "Record the signers of verified packages as their pinned identities",
		Long: `Verify packages and record, per channel and package name, the identity that
signed each one (trust on first use). Later verifications with the same pin
file flag a package signed by another identity: an error or a warning, as the
channel's policy says.

The packages are those of a lock file (a conda explicit file, a pixi.lock or
a conda-lock.yml, verified as verify-env does; --platform,
--installer-checks-sha256 and --channel as there), or package URLs. Pin a lock file into a
pin file beside it, and commit both: verify-env --pins FILE (with --pin error,
or pin: error in the policy file) then fails any package whose signer
changed when the lock file is updated. The pin file lists one package a
line, sorted by channel and name, so that such a change is a one-line diff.

A package already pinned to another signer is left alone and makes the run
fail, unless --replace is given: use it after checking that the new signer is
legitimate. The pin file is written atomically, under a lock on the file
beside it named FILE.lock (keep that one out of version control): runs that
share a pin file keep each other's pins, and a package that another run
pinned to another signer meanwhile keeps that pin and makes this run fail. A
pin file that is a symbolic link stays one: its target is updated (and the
lock file is beside the target).

The trust, policy, identity and claim flags are verify's (condasigs verify
--help says how identities pair with issuers).`,
		Example: `  condasigs pin --pins condasigs-pins.json --config condasigs.yaml pixi.lock
  condasigs verify-env --pins condasigs-pins.json --config condasigs.yaml pixi.lock

  condasigs pin --pins pins.json --identity 'https://github.com/prefix-dev/sigstore-example/*' --issuer github \
    https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda`,
		Args: wantArgs(1, -1, "a lock file, or at least one PACKAGE-URL, whose signers to pin", "condasigs pin --pins condasigs-pins.json --config condasigs.yaml pixi.lock"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.pins == "" {
				return usageError("--pins FILE is required: the pin file to create or update")
			}
			file, isLock, err := lockFileArg(args)
			if err != nil {
				return err
			}
			if !isLock {
				if err := checkPinURLFlags(cmd); err != nil {
					return err
				}
			}
			store, err := policy.LoadPins(f.pins)
			if err != nil {
				return problem("%v", err)
			}
			if isLock {
				return runPinLockFile(cmd, f, lf, store, file)
			}
			s, err := openSession(cmd, f, args, true)
			if err != nil {
				return err
			}
			defer s.close()
			reports, verr := s.verifyAll(cmd.Context(), args)
			changed, conflicts := applyPins(cmd, store, reports, lf.replace)
			lost, err := savePins(cmd, store, changed)
			if err != nil {
				return err
			}
			conflicts += lost
			if err := s.finish(cmd, f.format, reports, verr); err != nil {
				return err
			}
			if conflicts > 0 {
				return exitError{exitFail}
			}
			return nil
		},
	}
	addVerifyFlags(cmd, &f)
	fl := cmd.Flags()
	fl.BoolVar(&lf.replace, "replace", false, "replace pins whose signer changed")
	fl.StringArrayVar(&lf.platforms, "platform", nil, "with a lock file: pin only the packages it installs on this platform, e.g. linux-64 (repeatable; default: all)")
	fl.BoolVar(&f.installerChecksSHA256, "installer-checks-sha256", false, "with a conda-lock.yml: it is installed by a tool that checks each package's sha256 (micromamba, pixi), not by conda-lock install, which checks the md5 only")
	return cmd
}

// applyPins records the signers of the packages that passed. It returns
// the number of pins written and of changed signers left alone. The
// package names, channels and signers it prints come from channels and
// certificates: each is escaped (textsafe.Escape).
func applyPins(cmd *cobra.Command, store *policy.PinStore, reports []*condasigs.Report, replace bool) (changed, conflicts int) {
	w := cmd.ErrOrStderr()
	esc := textsafe.Escape
	for _, r := range reports {
		if r.Outcome == policy.Fail {
			continue
		}
		if r.Pinning == nil {
			if why := unpinnableReason(r); why != "" {
				fmt.Fprintf(w, "not pinned: %s, because %s\n", esc(r.Filename), why)
			} else if r.Status == policy.StatusVerified {
				fmt.Fprintf(w, "not pinned: %s, because its policy entry %s does not pin signers (add pin: error or pin: warn)\n", esc(r.Filename), esc(fmt.Sprintf("%q", r.PolicyEntry)))
			}
			continue
		}
		p := r.Pinning
		pkg, channel, signer := esc(p.Package), esc(p.Channel), esc(p.Signer.String())
		old, ok := store.Get(p.Channel, p.Package)
		switch {
		case !ok:
			store.Set(p.Channel, p.Package, p.Signer)
			changed++
			fmt.Fprintf(w, "pinned %s on %s to %s\n", pkg, channel, signer)
		case old.Same(p.Signer):
			fmt.Fprintf(w, "unchanged: %s on %s is signed by %s\n", pkg, channel, esc(old.String()))
		case replace:
			store.Set(p.Channel, p.Package, p.Signer)
			changed++
			fmt.Fprintf(w, "replaced the pin of %s on %s: %s, was %s\n", pkg, channel, signer, esc(old.String()))
		default:
			conflicts++
			fmt.Fprintf(w, "signer changed: %s on %s is pinned to %s but signed by %s; check it, then run again with --replace\n", pkg, channel, esc(old.String()), signer)
		}
	}
	return changed, conflicts
}

// reportLostPins tells which pins Save left alone because another run had
// pinned other signers of those packages meanwhile, and returns how many.
// What it prints is escaped, as in applyPins.
func reportLostPins(cmd *cobra.Command, e *policy.PinConflictError) int {
	w := cmd.ErrOrStderr()
	esc := textsafe.Escape
	for _, c := range e.Conflicts {
		fmt.Fprintf(w, "signer changed: %s on %s was pinned to %s by another run meanwhile, so it is not pinned to %s; check it, then run again with --replace\n",
			esc(c.Package), esc(c.Channel), esc(c.Kept.String()), esc(c.Refused.String()))
	}
	return len(e.Conflicts)
}
