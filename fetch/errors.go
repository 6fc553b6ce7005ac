package fetch

import "errors"

// Kind classifies a fetch failure. Its string form is a stable code, fit for
// machine-readable reports.
type Kind string

// The kinds of failure. All but KindNotAdvertised are retrieval failures in
// the sense of CEP 50: the package advertised attestations that could not be
// obtained intact, which is never the same as "no attestations".
const (
	KindNotAdvertised Kind = "not-advertised" // the record has no attestations_sha256
	KindInvalidDigest Kind = "invalid-digest" // attestations_sha256 is not 64 lowercase hex characters
	KindInvalidURL    Kind = "invalid-url"    // the package URL cannot be used
	KindNotFound      Kind = "not-found"      // HTTP 404 or a missing file
	KindHTTPStatus    Kind = "http-status"    // any other unsuccessful HTTP status, after retries
	KindNetwork       Kind = "network"        // connection or transport failure, after retries
	KindTooLarge      Kind = "too-large"      // the body exceeds the size cap
	KindHashMismatch  Kind = "hash-mismatch"  // the bytes do not hash to the advertised value
	KindMalformed     Kind = "malformed"      // the bytes are not what they must be (e.g. invalid repodata)
)

// Error makes a Kind usable with errors.Is: errors.Is(err,
// fetch.KindNotFound) matches every not-found failure.
func (k Kind) Error() string { return string(k) }

// Error is a fetch failure. URL is always redacted.
type Error struct {
	Kind Kind
	// URL is the redacted URL that was being fetched, if any.
	URL string
	// StatusCode is the last HTTP status received, if any.
	StatusCode int
	// Msg says what happened, in words for a person.
	Msg string
	// Err is the underlying cause, if any. It never carries an unredacted URL.
	Err error
}

// Error describes the failure; the URL in it is redacted.
func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" && (e.Err == nil || e.URL != "") {
		msg = string(e.Kind)
	}
	if e.URL != "" {
		msg = join(e.URL, msg)
	}
	if e.Err != nil {
		msg = join(msg, e.Err.Error())
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Kind, so that errors.Is(err,
// fetch.KindNotFound) matches every not-found failure.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

func join(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + ": " + b
}

// kindOf returns the Kind of a fetch failure in err's chain, or "" when err
// is not one.
func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return ""
}
