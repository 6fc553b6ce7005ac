package conda

import "errors"

// The classes of refused input: every error of [ValidateDigest] and
// [SidecarURL] about the digest is of errInvalidDigest, and every error of
// [SplitPackageURL] and [SidecarURL] about the package URL of
// errInvalidURL (SidecarURL checks the digest first). Their messages never
// hold credentials.
var (
	errInvalidDigest = errors.New("invalid attestations_sha256")
	errInvalidURL    = errors.New("invalid package URL")
)

// invalidError is an input refused by a rule of this package. url, when
// set, is already redacted.
type invalidError struct {
	kind error
	url  string
	msg  string
}

func (e *invalidError) Error() string {
	if e.url != "" {
		return e.url + ": " + e.msg
	}
	return e.msg
}

func (e *invalidError) Is(target error) bool { return target == e.kind }
