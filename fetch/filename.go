package fetch

import (
	"fmt"

	"github.com/condasigs/condasigs/conda"
)

// CheckConsistent reports whether the record's name, version and build, when
// given, are those of its file name. A record that contradicts its file
// name cannot be trusted about anything: installers and tools key packages
// by name, while the attestation binds the file name.
func (r Record) CheckConsistent() (conda.PackageFilename, error) {
	f, err := conda.ParseFilename(r.Filename)
	if err != nil {
		return f, err
	}
	for _, fld := range []struct{ what, rec, file string }{
		{"name", r.Name, f.Name}, {"version", r.Version, f.Version}, {"build", r.Build, f.Build},
	} {
		if fld.rec != "" && fld.rec != fld.file {
			return f, fmt.Errorf("the record of %s gives %s %q, but the file name says %q", r.Filename, fld.what, fld.rec, fld.file)
		}
	}
	return f, nil
}
