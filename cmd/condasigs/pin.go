package main

import (
	"fmt"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/policy"
	"github.com/spf13/cobra"
)

func newPinCommand() *cobra.Command {
	var f verifyFlags
	var replace bool
	cmd := &cobra.Command{
		Use:   "pin --pins FILE [flags] PACKAGE-URL...",
		Short: "Record the signers of verified packages as their pinned identities",
		Long: `Verify packages and record, per channel and package name, the identity that
signed each one (trust on first use). Later verifications with the same pin
file flag a package signed by another identity: an error or a warning, as the
channel's policy says.

A package already pinned to another signer is left alone and makes the run
fail, unless --replace is given: use it after checking that the new signer is
legitimate. The pin file is written atomically.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.pins == "" {
				return usageError("--pins FILE is required: the pin file to create or update")
			}
			store, err := policy.LoadPins(f.pins)
			if err != nil {
				return problem("%v", err)
			}
			s, err := openSession(cmd, f, args, true)
			if err != nil {
				return err
			}
			defer s.close()
			reports, verr := s.verifyAll(cmd.Context(), args)
			changed, conflicts := applyPins(cmd, store, reports, replace)
			if changed > 0 {
				if err := store.Save(); err != nil {
					return problem("%v", err)
				}
			}
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
	cmd.Flags().BoolVar(&replace, "replace", false, "replace pins whose signer changed")
	return cmd
}

// applyPins records the signers of the packages that passed. It returns
// the number of pins written and of changed signers left alone.
func applyPins(cmd *cobra.Command, store *policy.PinStore, reports []*condasigs.Report, replace bool) (changed, conflicts int) {
	w := cmd.ErrOrStderr()
	for _, r := range reports {
		if r.Outcome == policy.Fail {
			continue
		}
		if r.Pin == nil {
			if r.Status == policy.StatusVerified {
				fmt.Fprintf(w, "not pinned: %s, because its policy entry %q does not pin signers (add pin: error or pin: warn)\n", r.Filename, r.PolicyEntry)
			}
			continue
		}
		p := r.Pin
		old, ok := store.Get(p.Channel, p.Package)
		switch {
		case !ok:
			store.Set(p.Channel, p.Package, p.Signer)
			changed++
			fmt.Fprintf(w, "pinned %s on %s to %s\n", p.Package, p.Channel, p.Signer)
		case old.Same(p.Signer):
			fmt.Fprintf(w, "unchanged: %s on %s is signed by %s\n", p.Package, p.Channel, old)
		case replace:
			store.Set(p.Channel, p.Package, p.Signer)
			changed++
			fmt.Fprintf(w, "replaced the pin of %s on %s: %s, was %s\n", p.Package, p.Channel, p.Signer, old)
		default:
			conflicts++
			fmt.Fprintf(w, "signer changed: %s on %s is pinned to %s but signed by %s; check it, then run again with --replace\n", p.Package, p.Channel, old, p.Signer)
		}
	}
	return changed, conflicts
}
