package trustroot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/condasigs/condasigs/fetch"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// DefaultRefreshInterval is how often a TUF source refreshes by default.
const DefaultRefreshInterval = 24 * time.Hour

// TUFOptions configure a TUF source.
type TUFOptions struct {
	// RepositoryURL is the TUF repository's base URL. Empty means the
	// Sigstore public-good instance.
	RepositoryURL string
	// Root is the initial root.json that anchors trust in the repository.
	// It may be omitted for the public-good and staging repositories, whose
	// roots sigstore-go embeds; any other repository needs it.
	Root []byte
	// Target is the name of the trusted root target (default
	// "trusted_root.json").
	Target string
	// CacheDir is where TUF metadata is cached, one directory per
	// repository (default: <user cache dir>/condasigs/tuf). If the
	// directory cannot be used the cache is kept in memory, with a warning.
	CacheDir string
	// DisableCache keeps the metadata in memory only.
	DisableCache bool
	// Offline uses the cache alone and never opens a connection. It fails
	// with a clear error when the cache is empty or expired.
	Offline bool
	// HTTPClient carries all TUF traffic (nil: a dedicated client).
	HTTPClient *http.Client
	// Fetch tunes retries and timeouts of TUF downloads; its HTTPClient,
	// if set, is overridden by HTTPClient above when that is set.
	Fetch fetch.Options
	// RefreshInterval is how often the root is refreshed in the background
	// (default 24 h, with ±10 % jitter). After a failure the next attempt
	// comes sooner: 1 min, doubling up to the interval. Negative disables
	// refresh.
	RefreshInterval time.Duration
	// Logger receives refresh results and failures. Nil discards them.
	Logger *slog.Logger
}

// PublicGood returns options for the Sigstore public-good instance.
func PublicGood() TUFOptions {
	return TUFOptions{RepositoryURL: tuf.DefaultMirror, Root: tuf.DefaultRoot()}
}

// Staging returns options for the Sigstore staging instance.
func Staging() TUFOptions {
	return TUFOptions{RepositoryURL: tuf.StagingMirror, Root: tuf.StagingRoot()}
}

// TUF is a Source that follows a TUF repository. Close it, or cancel the
// context given to NewTUF, to stop the background refresh.
type TUF struct {
	opts    TUFOptions
	client  *fetch.Client
	log     *slog.Logger
	current atomic.Pointer[Snapshot]
	lastErr atomic.Pointer[error]
	// refreshMu serializes refreshes: two updates of one cache directory
	// must not interleave, and a slow refresh that began before a newer one
	// must not replace the newer root (or its error) when it ends.
	refreshMu sync.Mutex
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// NewTUF loads the trusted root from the repository (or, when the update
// fails, from a valid cache), then refreshes it in the background until ctx
// ends or Close is called. ctx bounds the initial load and the life of the
// background refresh: give it a context that lives as long as the source is
// used, not a request's.
func NewTUF(ctx context.Context, opts TUFOptions) (*TUF, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fo := opts.Fetch
	if opts.HTTPClient != nil {
		fo.HTTPClient = opts.HTTPClient
	}
	fo.AllowFile = false
	t := &TUF{opts: opts, client: fetch.New(fo), log: log}
	if opts.Offline && !opts.DisableCache {
		if st, err := os.Stat(opts.CacheDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("trustroot: offline mode needs a TUF cache, and %s is not one: run once online with this cache directory, or use a trusted_root.json file", opts.CacheDir)
		}
	}
	if !opts.DisableCache && !opts.Offline {
		if err := writable(opts.CacheDir); err != nil {
			log.Warn("condasigs: TUF cache directory unusable, caching in memory", "dir", opts.CacheDir, "error", err)
			t.opts.DisableCache = true
		}
	}
	snap, err := t.load(ctx, opts.Offline)
	if err != nil && !opts.Offline && !t.opts.DisableCache {
		var cerr error
		if snap, cerr = t.load(ctx, true); cerr != nil {
			return nil, fmt.Errorf("trustroot: %w", err)
		}
		log.Warn("condasigs: TUF update failed, using the cached trusted root", "repository", fetch.Redact(opts.RepositoryURL), "error", err)
		// The root in use is the cached one: say why it was not updated.
		t.lastErr.Store(&err)
	} else if err != nil {
		return nil, fmt.Errorf("trustroot: %w", err)
	}
	t.current.Store(snap)
	bg, cancel := context.WithCancel(ctx)
	t.cancel = cancel
	if opts.RefreshInterval > 0 && !opts.Offline {
		t.wg.Add(1)
		go t.refreshLoop(bg)
	}
	return t, nil
}

func (o *TUFOptions) fill() error {
	switch {
	case o.RepositoryURL == "" || o.RepositoryURL == tuf.DefaultMirror:
		o.RepositoryURL = tuf.DefaultMirror
		if len(o.Root) == 0 {
			o.Root = tuf.DefaultRoot()
		}
	case o.RepositoryURL == tuf.StagingMirror:
		if len(o.Root) == 0 {
			o.Root = tuf.StagingRoot()
		}
	case len(o.Root) == 0:
		return fmt.Errorf("trustroot: the TUF repository %s needs its initial root.json (TUFOptions.Root)", fetch.Redact(o.RepositoryURL))
	}
	if o.Target == "" {
		o.Target = "trusted_root.json"
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.CacheDir == "" && !o.DisableCache {
		if dir := DefaultCacheDir(); dir != "" {
			o.CacheDir = dir
		} else {
			o.DisableCache = true
		}
	}
	return nil
}

// DefaultCacheDir is where TUF metadata is cached by default:
// <user cache dir>/condasigs/tuf, or "" when the system has no user cache
// directory.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "condasigs", "tuf")
}

// load runs a TUF update (or reads the cache alone when offline) and
// returns the trusted root target.
func (t *TUF) load(ctx context.Context, offline bool) (*Snapshot, error) {
	fetcher := &tufFetcher{ctx: ctx, client: t.client}
	o := &tuf.Options{
		Root:              t.opts.Root,
		CachePath:         t.opts.CacheDir,
		RepositoryBaseURL: t.opts.RepositoryURL,
		DisableLocalCache: t.opts.DisableCache,
		Fetcher:           fetcher,
		Context:           ctx,
	}
	if offline {
		if t.opts.DisableCache {
			return nil, errors.New("offline mode needs a TUF cache, and the cache is disabled")
		}
		o.ForceCache = true
		o.Fetcher = offlineFetcher{}
	}
	c, err := tuf.New(o)
	if err != nil {
		return nil, fmt.Errorf("TUF update from %s: %w", fetch.Redact(t.opts.RepositoryURL), err)
	}
	b, err := c.GetTarget(t.opts.Target)
	if err != nil {
		return nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
	}
	tr, err := parseSingleRoot(b)
	if err != nil {
		return nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
	}
	info := Info{Kind: "tuf", Source: fetch.Redact(t.opts.RepositoryURL), LoadedAt: time.Now().UTC(), FromCache: offline, Digest: digestOf(b)}
	if offline {
		// The root is as old as the cache's last successful update.
		if cfg, err := tuf.LoadConfig(filepath.Join(t.opts.CacheDir, tuf.URLToPath(t.opts.RepositoryURL)+".json")); err == nil && !cfg.LastTimestamp.IsZero() {
			info.LoadedAt = cfg.LastTimestamp.UTC()
		}
	}
	// The root is good until the first of the metadata it was checked
	// with expires: what this update downloaded, and what the cache holds.
	info.Expires = fetcher.expiry()
	if !t.opts.DisableCache {
		dir := filepath.Join(t.opts.CacheDir, tuf.URLToPath(t.opts.RepositoryURL))
		for _, role := range []string{"timestamp.json", "snapshot.json", "targets.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, role)); err == nil {
				info.Expires = earliest(info.Expires, metadataExpiryOf(b))
			}
		}
	}
	return &Snapshot{Material: tr, Info: info}, nil
}

// writable makes dir and checks that a file can be created in it (a
// read-only file system passes MkdirAll on an existing directory).
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// metadataExpiryOf returns the expiry of a TUF metadata document, zero if
// it has none that parses.
func metadataExpiryOf(b []byte) time.Time {
	var md struct {
		Signed struct {
			Expires time.Time `json:"expires"`
		} `json:"signed"`
	}
	if json.Unmarshal(b, &md) != nil {
		return time.Time{}
	}
	return md.Signed.Expires.UTC()
}

// Snapshot returns the current trusted root.
func (t *TUF) Snapshot(context.Context) (*Snapshot, error) { return t.current.Load(), nil }

// Refresh updates the trusted root now. On failure the last good root stays
// in use and the error is returned (and remembered for LastError).
func (t *TUF) Refresh(ctx context.Context) error {
	t.refreshMu.Lock()
	defer t.refreshMu.Unlock()
	snap, err := t.load(ctx, t.opts.Offline)
	if err != nil {
		// A refresh cut short by its context (Close, for one) says nothing
		// about the repository: LastError keeps the last real outcome.
		if ctx.Err() == nil {
			t.lastErr.Store(&err)
		}
		return fmt.Errorf("trustroot: %w", err)
	}
	t.current.Store(snap)
	t.lastErr.Store(nil)
	return nil
}

// LastError returns the error of the last refresh, or nil if it succeeded.
func (t *TUF) LastError() error {
	if p := t.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the background refresh and waits for it to end.
func (t *TUF) Close() error {
	t.cancel()
	t.wg.Wait()
	return nil
}

// retryAfterFailure is the first wait after a failed refresh; it doubles
// with each further failure, up to the refresh interval.
const retryAfterFailure = time.Minute

func (t *TUF) refreshLoop(ctx context.Context) {
	defer t.wg.Done()
	wait := t.opts.RefreshInterval
	if t.LastError() != nil { // started from the cache: the update failed
		wait = min(retryAfterFailure, t.opts.RefreshInterval)
	}
	for {
		jitter := 0.9 + 0.2*rand.Float64()
		timer := time.NewTimer(time.Duration(float64(wait) * jitter))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if err := t.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if wait >= t.opts.RefreshInterval {
				wait = retryAfterFailure
			} else {
				wait *= 2
			}
			wait = min(wait, t.opts.RefreshInterval)
			t.log.Warn("condasigs: trusted root refresh failed; keeping the last good root", "repository", fetch.Redact(t.opts.RepositoryURL), "retry_in", wait, "error", err)
			continue
		}
		wait = t.opts.RefreshInterval
		t.log.Info("condasigs: trusted root refreshed", "repository", fetch.Redact(t.opts.RepositoryURL))
	}
}
