package trustroot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/condasigs/condasigs/fetch"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	tuffetcher "github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// tufFetcher adapts a fetch.Client (the caller's HTTP client, retries,
// timeouts, redaction) to go-tuf's Fetcher, with the error types go-tuf
// branches on: a 404 ends root rotation, a length error refuses a file.
type tufFetcher struct {
	ctx    context.Context
	client *fetch.Client
	// expires is the earliest expiry of the top-level metadata downloaded
	// (timestamp, snapshot, targets), zero if none was.
	mu      sync.Mutex
	expires time.Time
}

var _ tuffetcher.Fetcher = (*tufFetcher)(nil)

func (f *tufFetcher) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	body, err := f.client.Open(f.ctx, urlPath, maxLength)
	if err != nil {
		return nil, tufError(urlPath, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, tufError(urlPath, err)
	}
	if role := path.Base(urlPath); strings.HasSuffix(role, "timestamp.json") || strings.HasSuffix(role, "snapshot.json") || strings.HasSuffix(role, "targets.json") {
		f.note(metadataExpiryOf(b))
	}
	return b, nil
}

func (f *tufFetcher) note(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expires = earliest(f.expires, t)
}

// expiry returns the earliest expiry seen.
func (f *tufFetcher) expiry() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.expires
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

func tufError(urlPath string, err error) error {
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		return err
	}
	switch fe.Kind {
	case fetch.KindNotFound:
		return &metadata.ErrDownloadHTTP{StatusCode: 404, URL: fetch.Redact(urlPath)}
	case fetch.KindHTTPStatus:
		return &metadata.ErrDownloadHTTP{StatusCode: fe.StatusCode, URL: fetch.Redact(urlPath)}
	case fetch.KindTooLarge:
		return &metadata.ErrDownloadLengthMismatch{Msg: fe.Error()}
	}
	return err
}

// offlineFetcher refuses every download: offline mode never opens a
// connection.
type offlineFetcher struct{}

func (offlineFetcher) DownloadFile(urlPath string, _ int64, _ time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("offline: not fetching %s; the TUF cache is empty or expired", fetch.Redact(urlPath))
}
