package main

import (
	"errors"
	"io/fs"
	"os"
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
