package trustroot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/condasigs/condasigs/conda"
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
	// metadataURL is the repository's base URL with a trailing slash;
	// versioned root.json files downloaded from right below it are kept
	// in roots, by version: the rotations an update walked, kept in the
	// cache when it succeeds.
	metadataURL string
	mu          sync.Mutex
	roots       map[int64][]byte
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
	name, below := strings.CutPrefix(urlPath, f.metadataURL)
	if v, ok := rootVersionOf(name); ok && below && f.metadataURL != "" {
		f.mu.Lock()
		if f.roots == nil {
			f.roots = map[int64][]byte{}
		}
		f.roots[v] = b
		f.mu.Unlock()
	}
	return b, nil
}

// downloadedRoots returns the versioned roots downloaded, by version.
func (f *tufFetcher) downloadedRoots() map[int64][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.roots)
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
		return &metadata.ErrDownloadHTTP{StatusCode: 404, URL: conda.Redact(urlPath)}
	case fetch.KindHTTPStatus:
		return &metadata.ErrDownloadHTTP{StatusCode: fe.StatusCode, URL: conda.Redact(urlPath)}
	case fetch.KindTooLarge:
		return &metadata.ErrDownloadLengthMismatch{Msg: fe.Error()}
	}
	return err
}

// offlineFetcher refuses every download: a read of the cache alone
// (offline, or after a failed update) never opens a connection.
type offlineFetcher struct{}

func (offlineFetcher) DownloadFile(urlPath string, _ int64, _ time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("offline: not fetching %s; the TUF cache is empty or expired", conda.Redact(urlPath))
}
