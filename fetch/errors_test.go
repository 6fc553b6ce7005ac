package fetch_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/fetch"
)

var allKinds = []fetch.Kind{
	fetch.KindNotAdvertised, fetch.KindInvalidDigest, fetch.KindInvalidURL, fetch.KindNotFound,
	fetch.KindHTTPStatus, fetch.KindNetwork, fetch.KindTooLarge, fetch.KindHashMismatch, fetch.KindMalformed,
}

func TestErrorIsMatchesKindOnly(t *testing.T) {
	t.Parallel()
	for _, s := range allKinds {
		err := fmt.Errorf("outer: %w", &fetch.Error{Kind: s, URL: "https://h/x", Msg: "m", StatusCode: 500})
		for _, other := range allKinds {
			assert.Equalf(t, s == other, errors.Is(err, other), "errors.Is(%s, %s)", s, other)
		}
		assert.Equal(t, s, fetch.KindOf(err))
	}
	// A non-*Error target never matches.
	assert.False(t, errors.Is(&fetch.Error{Kind: fetch.KindNetwork}, io.EOF))
}

func TestKindsAreStableCodes(t *testing.T) {
	t.Parallel()
	want := []string{"not-advertised", "invalid-digest", "invalid-url", "not-found", "http-status",
		"network", "too-large", "hash-mismatch", "malformed"}
	var got []string
	for _, s := range allKinds {
		got = append(got, string(s))
	}
	assert.Equal(t, want, got)
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	assert.Equal(t, fetch.Kind(""), fetch.KindOf(nil))
	assert.Equal(t, fetch.Kind(""), fetch.KindOf(io.EOF))
	assert.Equal(t, fetch.KindNotAdvertised, fetch.KindOf(fmt.Errorf("x: %w", fetch.KindNotAdvertised)))
	for _, s := range allKinds {
		assert.Equalf(t, s, fetch.KindOf(fmt.Errorf("x: %w", &fetch.Error{Kind: s})), "%s", s)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection reset by peer")
	tests := []struct {
		err  *fetch.Error
		want string
	}{
		{&fetch.Error{Kind: fetch.KindNotFound}, "not-found"},
		{&fetch.Error{Kind: fetch.KindNotFound, Msg: "HTTP status 404"}, "HTTP status 404"},
		{&fetch.Error{Kind: fetch.KindNotFound, URL: "https://h/x", Msg: "HTTP status 404"}, "https://h/x: HTTP status 404"},
		{&fetch.Error{Kind: fetch.KindNetwork, URL: "https://h/x", Err: cause}, "https://h/x: network: connection reset by peer"},
		{&fetch.Error{Kind: fetch.KindNetwork, URL: "https://h/x", Msg: "network failure", Err: cause},
			"https://h/x: network failure: connection reset by peer"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
	e := &fetch.Error{Kind: fetch.KindNetwork, Err: cause}
	require.ErrorIs(t, e, cause)
	assert.Equal(t, cause, e.Unwrap())
}
