package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
}

// FetchSidecar retrieves the sidecar advertised by rec for the package at
// packageURL: it checks rec.AttestationsSHA256, builds the content-addressed
// URL, streams at most the size cap, and compares the SHA-256 of the bytes
// with the advertised value. A record without attestations_sha256 yields
// [ErrNotAdvertised] and no request.
func (c *Client) FetchSidecar(ctx context.Context, packageURL string, rec Record) (*Sidecar, error) {
	if !rec.HasAttestations() {
		return nil, &Error{Kind: KindNotAdvertised, Msg: fmt.Sprintf("%s has no attestations_sha256 in repodata", rec.Filename)}
	}
	sidecarURL, err := SidecarURL(packageURL, rec.AttestationsSHA256)
	if err != nil {
		return nil, err
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
	if got != rec.AttestationsSHA256 {
		return nil, &Error{Kind: KindHashMismatch, URL: Redact(sidecarURL),
			Msg: fmt.Sprintf("sidecar bytes hash to %s, repodata advertises %s", got, rec.AttestationsSHA256)}
	}
	return &Sidecar{URL: Redact(sidecarURL), SHA256: got, Data: buf.Bytes()}, nil
}
