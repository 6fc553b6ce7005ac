package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/policy"
)

// checkPinsExist refuses a --pins FILE that does not exist, for verify and
// verify-env: they read pins and record none (condasigs pin does), so with
// no file no signer is ever compared, and a typo in the path, or a pull
// request that deletes the pin file, would pass every package whichever
// trusted identity signed it.
func checkPinsExist(cmdName, path string) error {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return problem("--pins %s does not exist, and %s compares signers with pins but records none: create it with condasigs pin (given the same lock file or packages), or correct the path", path, cmdName)
	}
	return nil // any other problem is LoadPins's to report
}

// unpinnableReason says why a package that verified gave no signer to pin
// although its policy pins: its attestations need not be about what gets
// installed (policy.Match.Decide binds no pin then); "" otherwise.
func unpinnableReason(r *condasigs.Report) string {
	for _, reason := range r.Reasons {
		switch reason.Code {
		case policy.CodeLockUnbound:
			return "its lock entry gives the installer no sha256 to check (" + string(reason.Code) + "), so what verified need not be what gets installed: write the lock file with sha256 hashes, then pin it"
		case policy.CodeRecordInconsistent:
			return "the channel's record contradicts its file name (" + string(reason.Code) + "), so the channel's word about it cannot be trusted"
		}
	}
	return ""
}
