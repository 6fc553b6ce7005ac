package conda

import (
	"fmt"
	"strings"
)

// PackageFilename is a conda package file name split into its parts:
// <name>-<version>-<build>.<ext>. The name is what precedes the last two
// dashes, so it may hold dashes itself; version and build never do.
type PackageFilename struct {
	Name    string
	Version string
	Build   string
	// Ext is ".conda" or ".tar.bz2".
	Ext string
}

// ParseFilename splits a conda package file name. The file name is what a
// CEP 27 attestation binds (subject[0].name), so whatever is keyed per
// package, such as a pinned signer, is keyed on these parts rather than on
// a record's fields, which are the channel's word.
func ParseFilename(filename string) (PackageFilename, error) {
	var f PackageFilename
	stem := filename
	for _, ext := range []string{".conda", ".tar.bz2"} {
		if s, ok := strings.CutSuffix(filename, ext); ok {
			stem, f.Ext = s, ext
			break
		}
	}
	if f.Ext == "" {
		return f, fmt.Errorf("%q is not a conda package file name: it must end in .conda or .tar.bz2", filename)
	}
	if strings.ContainsAny(stem, "/\\") {
		return f, fmt.Errorf("%q is not a conda package file name: it holds a path separator", filename)
	}
	i := strings.LastIndexByte(stem, '-')
	if i < 0 {
		return f, fmt.Errorf("%q is not a conda package file name of the form <name>-<version>-<build>%s", filename, f.Ext)
	}
	f.Build = stem[i+1:]
	j := strings.LastIndexByte(stem[:i], '-')
	if j < 0 {
		return f, fmt.Errorf("%q is not a conda package file name of the form <name>-<version>-<build>%s", filename, f.Ext)
	}
	f.Name, f.Version = stem[:j], stem[j+1:i]
	if f.Name == "" || f.Version == "" || f.Build == "" {
		return f, fmt.Errorf("%q is not a conda package file name of the form <name>-<version>-<build>%s: a part is empty", filename, f.Ext)
	}
	return f, nil
}
