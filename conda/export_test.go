package conda

// The classes of refused input, for the tests of package conda_test.
var (
	ErrInvalidDigest = errInvalidDigest
	ErrInvalidURL    = errInvalidURL
)
