package conda

import "errors"

// Sentinel errors for errors.Is: every error of [ValidateDigest] and
// [SidecarURL] about the digest matches ErrInvalidDigest, and every error
// of [SplitPackageURL] and [SidecarURL] about the package URL matches
// ErrInvalidURL. Their messages never hold credentials.
var (
	ErrInvalidDigest = errors.New("invalid attestations_sha256")
	ErrInvalidURL    = errors.New("invalid package URL")
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
