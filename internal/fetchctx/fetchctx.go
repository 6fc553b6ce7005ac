// Package fetchctx carries, in the context of a call to fetch.Client.Open,
// what the root package needs of a client it was given and no integrator
// needs of the client they built, so that package fetch exports no name
// for it: a time bound other than fetch.Options.Timeout, for package
// downloads, which take longer than the sidecars that timeout is sized
// for; and a query of what the client would do, which the verdict cache
// must respect (it never answers for a URL the client refuses, and keys
// verdicts by the client's sidecar cap).
//
// Nothing here is global: each value lives in the context of one call.
package fetchctx

import (
	"context"
	"errors"
	"time"
)

type timeoutKey struct{}

// WithTimeout returns a context under which Open bounds a retrieval,
// retries and body included, by d instead of fetch.Options.Timeout.
func WithTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, timeoutKey{}, d)
}

// Timeout returns the bound WithTimeout set, if any.
func Timeout(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(timeoutKey{}).(time.Duration)
	return d, ok && d > 0
}

// Query is what a client says of itself when asked with WithQuery.
type Query struct {
	// Answered is set by the client.
	Answered bool
	// MaxSidecarSize is the client's effective sidecar size cap.
	MaxSidecarSize int64
	// URLErr is the error Open returns for the URL before any retrieval
	// (a fetch.KindInvalidURL failure); nil when the client takes it.
	URLErr error
}

type queryKey struct{}

// ErrQueried is what Open returns when it answered a query: nothing was
// retrieved.
var ErrQueried = errors.New("fetchctx: the client answered a query and retrieved nothing")

// WithQuery returns a context under which Open retrieves nothing: it fills
// in q for the URL it is given and returns ErrQueried.
func WithQuery(ctx context.Context, q *Query) context.Context {
	return context.WithValue(ctx, queryKey{}, q)
}

// QueryOf returns the query WithQuery set, or nil.
func QueryOf(ctx context.Context) *Query {
	q, _ := ctx.Value(queryKey{}).(*Query)
	return q
}
