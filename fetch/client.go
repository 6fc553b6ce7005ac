package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/cachedir"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/hashicorp/go-retryablehttp"
)

// Defaults for Options fields left zero.
const (
	defaultMaxSidecarSize  = 4 << 20 // 4 MiB, as rattler
	defaultMaxRepodataSize = 1 << 30 // 1 GiB
	defaultRetryMax        = 3
	defaultRetryWaitMin    = 250 * time.Millisecond
	defaultRetryWaitMax    = 5 * time.Second
	defaultTimeout         = 2 * time.Minute
	// maxIdleConnsPerHost is the idle connections a Client's own transport
	// keeps for one host.
	maxIdleConnsPerHost = 64
	// maxRetryAfter bounds how long a server's Retry-After can make us wait.
	maxRetryAfter = 30 * time.Second
)

// Options configure a Client. The zero value is usable: http(s) only, no
// file access, the default caps and retries.
type Options struct {
	// HTTPClient performs every request. Nil means a dedicated client with
	// the standard transport; supply one to set proxies, TLS roots or
	// transport-level timeouts.
	HTTPClient *http.Client
	// MaxSidecarSize caps a sidecar's size in bytes (default 4 MiB). The cap
	// applies to the decoded bytes while they stream.
	MaxSidecarSize int64
	// MaxRepodataSize caps a repodata.json document (default 1 GiB). The
	// cap applies to the bytes the parser reads, whatever the encodings:
	// decoded when the transport decodes them (the gzip it asks for), as
	// sent otherwise. A document within it is read in bounded memory all
	// the same: see [ScanRepodata] (a record takes at most 1 MiB).
	MaxRepodataSize int64
	// RetryMax is the number of retries after the first attempt (default 3;
	// a negative value means none). Retries happen on connection errors, 5xx
	// and 429, never on other 4xx.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff.
	RetryWaitMin, RetryWaitMax time.Duration
	// Timeout bounds one retrieval, retries and body included (default 2 min).
	Timeout time.Duration
	// AllowFile permits file:// URLs. Off by default, so that URLs taken from
	// untrusted input cannot read local files.
	AllowFile bool
	// UserAgent is sent with every request, if set.
	UserAgent string
	// CheckRedirect, if set, vets each redirect besides the built-in rules
	// (at most 10, never from https to http), e.g. one that keeps every
	// request on the package's host. It replaces HTTPClient.CheckRedirect.
	CheckRedirect func(req *http.Request, via []*http.Request) error
	// Cache, if set, keeps sidecars by their SHA-256: FetchSidecar answers
	// from it without a request when it holds the advertised bytes (they
	// are hashed again on every read, so a corrupt entry is refetched and
	// replaced), and stores what it retrieves. Sidecars are immutable
	// (content-addressed), so a cached one is never stale, and it serves
	// offline. Nil means no cache.
	Cache Cache
	// RepodataDir, if set, keeps the repodata.json documents read with
	// OpenRepodata in this directory, and asks the server whether each
	// changed (If-None-Match, If-Modified-Since) before downloading it
	// again: an unchanged channel costs a request and no transfer. A copy
	// is kept only once read to its end, and is always revalidated, never
	// used without asking. Copies are trusted as they are read back, so
	// the directory is held to the rule of [NewDirCache]: before each
	// document is read, the client creates the directory if it is missing
	// and checks it, and every copy is checked private to the user as it
	// is read. A directory that fails is not used (a warning says why
	// and what fixes it): documents are then downloaded whole. A relative
	// path is made absolute by New. Empty means no such cache.
	RepodataDir string
	// RecordSources lists the documents FindRecords reads a subdir's
	// records from, by their file names, in the order tried: any of
	// "repodata_shards.msgpack.zst" (CEP 16's sharded repodata),
	// "repodata.json.zst" and "repodata.json". A document the channel does
	// not serve (HTTP 404) moves on to the next. Nil means all three, in
	// that order.
	RecordSources []string
	// Logger receives debug records of requests and retries, with URLs
	// redacted and text that came from a channel escaped (control, format
	// and bidirectional characters, line breaks, CI workflow commands)
	// before its handler sees them. Nil discards them.
	Logger *slog.Logger
}

// Client retrieves repodata and sidecars. It is safe for concurrent use.
type Client struct {
	opts   Options
	retry  *retryablehttp.Client
	log    *slog.Logger
	shards shardState // CEP 16: the zstd decoder, made on first use
	// zstStreams bounds the repodata.json.zst streams read at once.
	zstStreams semaphore
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	opts.RepodataDir = cachedir.AbsoluteOr(opts.RepodataDir)
	if opts.MaxSidecarSize <= 0 {
		opts.MaxSidecarSize = defaultMaxSidecarSize
	}
	if opts.MaxRepodataSize <= 0 {
		opts.MaxRepodataSize = defaultMaxRepodataSize
	}
	switch {
	case opts.RetryMax == 0:
		opts.RetryMax = defaultRetryMax
	case opts.RetryMax < 0:
		opts.RetryMax = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = defaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = defaultRetryWaitMax
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	logger := textsafe.Logger(opts.Logger)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// A batch fetches many sidecars from one host at once: keep their
	// connections for reuse (the default keeps 2 a host).
	transport.MaxIdleConnsPerHost = maxIdleConnsPerHost
	hc := &http.Client{Transport: transport}
	if opts.HTTPClient != nil {
		copied := *opts.HTTPClient // the caller's client stays as it is
		hc = &copied
	}
	hc.CheckRedirect = checkRedirect(opts.CheckRedirect)
	c := &Client{opts: opts, log: logger}
	c.retry = &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // it would log URLs with their query strings
		RetryWaitMin: opts.RetryWaitMin,
		RetryWaitMax: opts.RetryWaitMax,
		RetryMax:     opts.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c
}

// MaxSidecarSize returns the effective sidecar size cap.
func (c *Client) MaxSidecarSize() int64 { return c.opts.MaxSidecarSize }

// redirectError is a redirect that the rules refused.
type redirectError struct {
	// To is the redirect's target, redacted.
	To     string
	Reason string
}

// Error says which redirect was refused and why.
func (e *redirectError) Error() string {
	return fmt.Sprintf("redirect to %s refused: %s", e.To, e.Reason)
}

const maxRedirects = 10

func checkRedirect(extra func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		to := conda.Redact(req.URL.String())
		switch {
		case len(via) >= maxRedirects:
			return &redirectError{To: to, Reason: fmt.Sprintf("more than %d redirects", maxRedirects)}
		case via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https":
			return &redirectError{To: to, Reason: "a downgrade from https"}
		}
		if extra != nil {
			if err := extra(req, via); err != nil {
				return &redirectError{To: to, Reason: err.Error()}
			}
		}
		// net/http sets Referer to the URL redirected from, /t/<token>/
		// path and query string included: the target, often another host
		// (a CDN), must not get the channel's credentials.
		req.Header.Del("Referer")
		return nil
	}
}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	var re *redirectError
	if errors.As(err, &re) {
		return false, err // a refused redirect stays refused
	}
	retry, perr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	if retry {
		attrs := []any{"error", sanitize(err)}
		if resp != nil {
			attrs = append(attrs, "url", conda.Redact(resp.Request.URL.String()), "status", resp.StatusCode)
		}
		c.log.DebugContext(ctx, "condasigs: retrying request", attrs...)
	}
	return retry, perr
}

func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	d := retryablehttp.DefaultBackoff(minWait, maxWait, attempt, resp)
	return min(d, max(maxWait, maxRetryAfter))
}

// Open returns a reader of the resource at rawURL that fails with
// [KindTooLarge] once more than limit bytes have been read. The caller must
// close it. Failures are *Error values; the caller's context ending is
// returned as the context's error.
func (c *Client) Open(ctx context.Context, rawURL string, limit int64) (io.ReadCloser, error) {
	u, err := c.checkURL(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return openFile(u, limit)
	}
	return c.openHTTP(ctx, u, limit, c.opts.Timeout)
}

// CheckURL returns the error (of kind [KindInvalidURL]) that Open would
// return for rawURL before any retrieval: a URL that does not parse, a
// scheme other than http, https and file, a file:// URL when AllowFile is
// off. Callers that answer from a cache check with it first, so that a
// cache never serves what the client would refuse.
func (c *Client) CheckURL(rawURL string) error {
	_, err := c.checkURL(rawURL)
	return err
}

func (c *Client) checkURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, URL: conda.Redact(rawURL), Msg: "cannot parse the URL"}
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, &Error{Kind: KindInvalidURL, URL: conda.Redact(rawURL), Msg: "the URL has no host"}
		}
		return u, nil
	case "file":
		if !c.opts.AllowFile {
			return nil, &Error{Kind: KindInvalidURL, URL: conda.Redact(rawURL),
				Msg: "file:// URLs are disabled; set fetch.Options.AllowFile to read local channels"}
		}
		return u, nil
	}
	return nil, &Error{Kind: KindInvalidURL, URL: conda.Redact(rawURL),
		Msg: fmt.Sprintf("unsupported URL scheme %q: use http, https or file", u.Scheme)}
}

// OpenRepodata opens a repodata.json document under the repodata size cap.
// With Options.RepodataDir, an http(s) document is revalidated against the
// copy kept there instead of downloaded again when unchanged.
func (c *Client) OpenRepodata(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	if c.opts.RepodataDir != "" {
		if u, err := url.Parse(rawURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return c.openCachedRepodata(ctx, u, c.opts.MaxRepodataSize)
		}
	}
	u, err := c.checkURL(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return openFile(u, c.opts.MaxRepodataSize)
	}
	r, err := c.getHTTP(ctx, u, c.opts.MaxRepodataSize, c.opts.Timeout, nil, true)
	return r.body, err
}

func (c *Client) openHTTP(parent context.Context, u *url.URL, limit int64, timeout time.Duration) (io.ReadCloser, error) {
	r, err := c.getHTTP(parent, u, limit, timeout, nil, false)
	return r.body, err
}

// httpBody is a response to a GET: its body, or notModified for a 304
// answer to a conditional request, and the validators to revalidate it.
type httpBody struct {
	body               io.ReadCloser
	notModified        bool
	etag, lastModified string
}

// getHTTP sends a GET with the extra header hdr (conditional headers). The
// request, retries and body included, must end within timeout.
func (c *Client) getHTTP(parent context.Context, u *url.URL, limit int64, timeout time.Duration, hdr http.Header, ahead bool) (httpBody, error) {
	redacted := conda.Redact(u.String())
	ctx, cancel := context.WithTimeout(parent, timeout)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return httpBody{}, &Error{Kind: KindInvalidURL, URL: redacted, Msg: "cannot build the request"}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.opts.UserAgent != "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	c.log.DebugContext(parent, "condasigs: GET", "url", redacted)
	resp, err := c.retry.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		cancel()
		if perr := parent.Err(); perr != nil {
			return httpBody{}, fmt.Errorf("fetching %s: %w", redacted, perr)
		}
		msg := "network failure"
		var re *redirectError
		switch {
		case errors.As(err, &re):
			msg = "redirect refused"
		case errors.Is(err, context.DeadlineExceeded):
			msg = fmt.Sprintf("timed out after %s", timeout)
		}
		return httpBody{}, &Error{Kind: KindNetwork, URL: redacted, Msg: msg, Err: sanitize(err)}
	}
	if resp.StatusCode == http.StatusNotModified && hdr != nil {
		resp.Body.Close()
		cancel()
		return httpBody{notModified: true}, nil
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		kind := KindHTTPStatus
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			kind = KindNotFound
		}
		return httpBody{}, &Error{Kind: kind, URL: redacted, StatusCode: resp.StatusCode,
			Msg: fmt.Sprintf("HTTP status %d", resp.StatusCode)}
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		cancel()
		return httpBody{}, tooLarge(redacted, limit)
	}
	var r io.Reader = resp.Body
	closer := func() error { defer cancel(); return resp.Body.Close() }
	if ahead {
		ra := newReadAhead(resp.Body, readAheadSize, readAheadChunks)
		r = ra
		closer = func() error {
			ra.Close()
			err := resp.Body.Close()
			cancel() // ends the read in flight, whatever the transport
			<-ra.done
			return err
		}
	}
	body := &cappedReader{r: r, remaining: limit, limit: limit, url: redacted, parent: parent, closer: closer}
	return httpBody{body: body, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}, nil
}

func openFile(u *url.URL, limit int64) (io.ReadCloser, error) {
	redacted := conda.Redact(u.String())
	if u.Host != "" && u.Host != "localhost" {
		return nil, &Error{Kind: KindInvalidURL, URL: redacted, Msg: "file:// URLs must not name a remote host"}
	}
	// A FIFO or a device could block forever or read without end.
	f, _, err := openRegular(u.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &Error{Kind: KindNotFound, URL: redacted, Msg: "no such file"}
	case errors.Is(err, errNotRegular):
		return nil, &Error{Kind: KindNotFound, URL: redacted, Msg: "not a regular file"}
	case err != nil:
		return nil, &Error{Kind: KindNetwork, URL: redacted, Msg: "cannot open the file", Err: unwrapPath(err)}
	}
	return &cappedReader{r: f, remaining: limit, limit: limit, url: redacted, closer: f.Close}, nil
}

// cappedReader fails with KindTooLarge when more than limit bytes arrive, and
// turns read errors into *Error values without unredacted URLs.
type cappedReader struct {
	r         io.Reader
	remaining int64
	limit     int64
	url       string
	parent    context.Context
	closer    func() error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.remaining < 0 {
		return 0, tooLarge(c.url, c.limit)
	}
	if int64(len(p))-1 > c.remaining { // never remaining+1: it may be the largest int64
		p = p[:c.remaining+1]
	}
	n, err := c.r.Read(p)
	c.remaining -= int64(n)
	if c.remaining < 0 {
		return n - 1, tooLarge(c.url, c.limit)
	}
	if err != nil && err != io.EOF {
		var fe *Error
		if errors.As(err, &fe) {
			return n, err // said already, by a reader below (e.g. a malformed zstd stream)
		}
		if c.parent != nil && c.parent.Err() != nil {
			return n, fmt.Errorf("reading %s: %w", c.url, c.parent.Err())
		}
		return n, &Error{Kind: KindNetwork, URL: c.url, Msg: "reading the body failed", Err: sanitize(err)}
	}
	return n, err
}

func (c *cappedReader) Close() error { return c.closer() }

func tooLarge(url string, limit int64) error {
	return &Error{Kind: KindTooLarge, URL: url, Msg: fmt.Sprintf("larger than the cap of %d bytes", limit)}
}

// sanitize removes URLs from transport errors: *url.Error prints the full
// URL, query string and all.
func sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
