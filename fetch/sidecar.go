package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/condasigs/condasigs/conda"
)

// Sidecar is a retrieved sidecar whose bytes hash to the advertised value.
// The bytes have not been parsed.
type Sidecar struct {
	// URL is the content-addressed URL it came from, redacted.
	URL string
	// SHA256 is the advertised and verified hash, lowercase hex.
	SHA256 string
	// Data holds the sidecar's bytes.
	Data []byte
	// FromCache is true when the bytes came from Options.Cache, without a
	// request.
	FromCache bool
}

// FetchSidecar retrieves the sidecar advertised by rec for the package at
// packageURL: it checks rec.AttestationsSHA256, builds the content-addressed
// URL, streams at most the size cap, and compares the SHA-256 of the bytes
// with the advertised value. A record without attestations_sha256 yields
// [KindNotAdvertised] and no request. With Options.Cache, a cached copy of
// the advertised bytes is used instead of a request.
func (c *Client) FetchSidecar(ctx context.Context, packageURL string, rec Record) (*Sidecar, error) {
	if !rec.HasAttestations() {
		return nil, &Error{Kind: KindNotAdvertised, Msg: fmt.Sprintf("%s has no attestations_sha256 in repodata", rec.Filename)}
	}
	if err := conda.ValidateDigest(rec.AttestationsSHA256); err != nil {
		return nil, &Error{Kind: KindInvalidDigest, Err: err}
	}
	sidecarURL, err := conda.SidecarURL(packageURL, rec.AttestationsSHA256)
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, Err: err}
	}
	want := rec.AttestationsSHA256 // SidecarURL checked it is lowercase hex
	if data, ok := c.cached(ctx, want); ok {
		return &Sidecar{URL: conda.Redact(sidecarURL), SHA256: want, Data: data, FromCache: true}, nil
	}
	body, err := c.Open(ctx, sidecarURL, c.opts.MaxSidecarSize)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var buf bytes.Buffer
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(&buf, h), body); err != nil {
		return nil, err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		return nil, &Error{Kind: KindHashMismatch, URL: conda.Redact(sidecarURL),
			Msg: fmt.Sprintf("sidecar bytes hash to %s, repodata advertises %s", got, want)}
	}
	if c.opts.Cache != nil {
		if err := c.opts.Cache.Put(ctx, want, buf.Bytes()); err != nil {
			c.log.WarnContext(ctx, "fetch: caching a sidecar failed", "sha256", want, "err", err)
		}
	}
	return &Sidecar{URL: conda.Redact(sidecarURL), SHA256: got, Data: buf.Bytes()}, nil
}

// cached returns the cache's copy of the sidecar whose SHA-256 is want,
// if it has one of those exact bytes within the size cap.
func (c *Client) cached(ctx context.Context, want string) ([]byte, bool) {
	if c.opts.Cache == nil {
		return nil, false
	}
	data, err := c.opts.Cache.Get(ctx, want)
	switch {
	case errors.Is(err, ErrCacheMiss):
		return nil, false
	case err != nil:
		c.log.WarnContext(ctx, "fetch: reading the sidecar cache failed", "sha256", want, "err", err)
		return nil, false
	case int64(len(data)) > c.opts.MaxSidecarSize:
		c.log.WarnContext(ctx, "fetch: ignoring a cached sidecar over the size cap", "sha256", want, "size", len(data))
		return nil, false
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != want {
		c.log.WarnContext(ctx, "fetch: ignoring a corrupt cached sidecar; fetching it again", "sha256", want)
		return nil, false
	}
	return data, true
}
