package trustroot

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	tuffetcher "github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// defaultRefreshInterval is how often a TUF source refreshes by default.
const defaultRefreshInterval = 24 * time.Hour

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
	// repository (a readable name and a hash of the URL; default: <user cache
	// dir>/condasigs/tuf). It and the repository's directory are created
	// private (mode 0700) when missing, and used only if they pass
	// the rule of fetch.NewDirCache (OpenSSH's StrictModes rule: yours, writable by
	// no one else, under directories only root or you can change). One
	// that does not, or cannot be made, is neither read nor written: the
	// cache is kept in memory, with a warning that says why; offline, it
	// is an error. Whoever can write the cache can replace what it holds
	// with older metadata that is still validly signed and unexpired.
	//
	// Inside it, only regular files and real directories of yours (or
	// root's) that no one else can write are read, at most 16 MiB per
	// metadata file; nothing follows a symbolic link, and every file is
	// written by renaming a new one over its name. A file that fails these
	// checks is removed before an update; in a cache that is not written,
	// one that go-tuf would read makes the cache unusable.
	//
	// If the repository's directory exists but cannot be written, or its
	// mode denies its owner writing (chmod a-w, which binds the superuser
	// too), or it belongs to root and the process does not run as root
	// (a cache root filled for others), it is read-only: it is never
	// written, updates are kept in memory, and its metadata, verified as
	// always, is used when the repository is unreachable. A cache of
	// root's is used only if the path as given, walked one component at a
	// time, passes through directories and symbolic links of root's or
	// yours alone, none of which others can write unless it is sticky.
	//
	// Sources sharing the cache (several processes) take turns through
	// its lock file (mode 0600, never followed if it is a link): an update
	// that writes the cache holds it exclusively, a read of the cache
	// alone holds it shared. Before an update locks it, a lock file that
	// group or others could open (and so lock, for good) is replaced by a
	// private one. No source waits for the lock longer than 5 seconds,
	// whatever its context: then a read of the cache goes on without the
	// lock (its files are replaced whole), and an update that would write
	// it starts from the cache as read and runs in memory, writing
	// nothing, as with a cache that cannot be written.
	CacheDir string
	// DisableCache keeps the metadata in memory only. As with a cache
	// that is not written, each update then starts from the metadata the
	// source trusted last, held in memory, and refuses older ones.
	DisableCache bool
	// Offline uses the cache alone and never opens a connection or writes
	// to the cache. It fails with a clear error when the cache is empty or
	// expired. The material's age is the cache's last successful update,
	// as recorded beside the metadata; without a record that matches the
	// cached timestamp metadata the age is unknown (Info.AgeUnknown).
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
	// Logger receives refresh results and failures, their text escaped
	// (control, format and bidirectional characters, line breaks, CI
	// workflow commands) before its handler sees them. Nil discards them.
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
	opts   TUFOptions
	client *fetch.Client
	log    *slog.Logger
	// dir is the repository's cache directory ("" without a cache), used
	// as mode says.
	dir  string
	mode cacheMode
	// unusable is set while a warning has said why the cache cannot be
	// used for updates, so that it is said once.
	unusable atomic.Bool
	current  atomic.Pointer[Snapshot]
	lastErr  atomic.Pointer[error]
	// trusted is what the last successful load trusted, the baseline of
	// the next: set by NewTUF, then read and replaced under refreshMu.
	trusted *trustedState
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
	log := textsafe.Logger(opts.Logger)
	fo := opts.Fetch
	if opts.HTTPClient != nil {
		fo.HTTPClient = opts.HTTPClient
	}
	fo.AllowFile = false
	t := &TUF{opts: opts, client: fetch.New(fo), log: log}
	switch {
	case opts.DisableCache:
	case opts.Offline:
		if st, err := os.Stat(opts.CacheDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("trustroot: offline mode needs a TUF cache, and %s is not one: run once online with this cache directory, or use a trusted_root.json file", opts.CacheDir)
		}
		t.dir, t.mode = repositoryCacheDir(opts.CacheDir, opts.RepositoryURL), cacheReadOnly
		// Said offline as online: a cache of root's is read, never written.
		if c, err := openDir(opts.CacheDir, t.dir, cacheReadOnly); err == nil {
			if c.shared {
				log.Warn("condasigs: TUF cache directory is read-only: offline, its metadata are verified and read, never written", "dir", t.dir, "error", fmt.Errorf("%s: %w", c.path, errRootOwned))
			}
			c.close()
		}
	default:
		t.dir = repositoryCacheDir(opts.CacheDir, opts.RepositoryURL)
		mode, err := openCache(opts.CacheDir, t.dir)
		switch t.mode = mode; mode {
		case cacheNone:
			log.Warn("condasigs: TUF cache directory unusable, caching in memory: it is neither read nor written", "dir", t.dir, "error", err)
			t.dir = ""
		case cacheReadOnly:
			log.Warn("condasigs: TUF cache directory is read-only: updates are kept in memory, and the cache is used when the repository is unreachable", "dir", t.dir, "error", err)
		}
	}
	snap, trusted, err := t.load(ctx, opts.Offline, nil)
	if err != nil && !opts.Offline && t.dir != "" {
		var cerr error
		if snap, trusted, cerr = t.loadCache(ctx, nil); cerr != nil {
			log.Debug("condasigs: no usable TUF cache to fall back on", "dir", t.dir, "error", cerr)
			return nil, fmt.Errorf("trustroot: %w", err)
		}
		log.Warn("condasigs: TUF update failed, using the cached trusted root", "repository", conda.Redact(opts.RepositoryURL), "error", err)
		// The root in use is the cached one: say why it was not updated.
		t.lastErr.Store(&err)
	} else if err != nil {
		return nil, fmt.Errorf("trustroot: %w", err)
	}
	t.current.Store(snap)
	t.trusted = trusted
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
		return fmt.Errorf("trustroot: the TUF repository %s needs its initial root.json (TUFOptions.Root)", conda.Redact(o.RepositoryURL))
	}
	if o.Target == "" {
		o.Target = "trusted_root.json"
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = defaultRefreshInterval
	}
	if o.CacheDir == "" && !o.DisableCache {
		if dir := defaultCacheDir(); dir != "" {
			o.CacheDir = dir
		} else {
			o.DisableCache = true
		}
	}
	return nil
}

// defaultCacheDir is where TUF metadata is cached by default (see
// TUFOptions.CacheDir), or "" when the system has no user cache directory.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "condasigs", "tuf")
}

// noCacheDir is where go-tuf is told its cache is when there is none: a
// path under a device file, which cannot exist, so that nothing is read
// from the working directory (go-tuf reads local metadata even with its
// cache disabled).
var noCacheDir = filepath.Join(os.DevNull, "condasigs-no-tuf-cache")

// load runs a TUF update, or reads the cache alone when offline, and
// returns the trusted root target and what it trusted. base is what the
// last load trusted (nil: none): the load starts from its root, and no
// role may go back to an older version than base holds.
func (t *TUF) load(ctx context.Context, offline bool, base *trustedState) (*Snapshot, *trustedState, error) {
	if !offline {
		return t.update(ctx, base)
	}
	snap, trusted, err := t.loadCache(ctx, base)
	if err != nil {
		return nil, nil, fmt.Errorf("offline: %w", err)
	}
	return snap, trusted, nil
}

// errRollback refuses metadata older than those a source already trusts.
var errRollback = errors.New("rollback refused")

// trustedState is what a load trusted, kept in memory as the baseline of
// the next: the newest trusted root.json, where the next update starts,
// and the version of each top-level role, none of which may go down. It
// holds the versions whether or not the cache is written: without it, an
// update that keeps nothing on disk (cache disabled, read-only, or
// unusable) would start again from the initial root, and a mirror could
// serve older metadata, still signed and unexpired.
//
// It also holds the root, timestamp and snapshot metadata themselves, so
// that the next load can tell whether the root it trusts rotated the
// timestamp or snapshot keys (rollback).
type trustedState struct {
	root                                                           []byte
	rootVersion, timestampVersion, snapshotVersion, targetsVersion int64

	rootMetadata      *metadata.Metadata[metadata.RootType]
	timestampMetadata *metadata.Metadata[metadata.TimestampType]
	snapshotMetadata  *metadata.Metadata[metadata.SnapshotType]
}

// newTrustedState records the top-level metadata tm, whose root.json is
// root.
func newTrustedState(tm *trustedmetadata.TrustedMetadata, root []byte) *trustedState {
	s := &trustedState{root: root, rootVersion: tm.Root.Signed.Version, rootMetadata: tm.Root}
	if tm.Timestamp != nil {
		s.timestampVersion, s.timestampMetadata = tm.Timestamp.Signed.Version, tm.Timestamp
	}
	if tm.Snapshot != nil {
		s.snapshotVersion, s.snapshotMetadata = tm.Snapshot.Signed.Version, tm.Snapshot
	}
	if tg := tm.Targets[metadata.TARGETS]; tg != nil {
		s.targetsVersion = tg.Signed.Version
	}
	return s
}

// rollback says which role of next is older than in s (nil: none is, or
// s is nil). The root's version never goes down. Those of the timestamp,
// snapshot and targets metadata do not either, unless next's root
// rotated the timestamp or snapshot keys (onlineKeysRotated): then, as
// TUF's client workflow (5.3.11, fast-forward attack recovery) deletes
// the trusted timestamp and snapshot metadata, and with the snapshot the
// targets version it bounds (5.5.5), the three start again from next.
func (s *trustedState) rollback(next *trustedState) error {
	if s == nil {
		return nil
	}
	type check struct {
		role      string
		have, got int64
	}
	checks := []check{{metadata.ROOT, s.rootVersion, next.rootVersion}}
	if !s.onlineKeysRotated(next) {
		checks = append(checks,
			check{metadata.TIMESTAMP, s.timestampVersion, next.timestampVersion},
			check{metadata.SNAPSHOT, s.snapshotVersion, next.snapshotVersion},
			check{metadata.TARGETS, s.targetsVersion, next.targetsVersion})
	}
	for _, r := range checks {
		if r.got < r.have {
			return fmt.Errorf("%w: %s.json version %d is older than version %d, already trusted", errRollback, r.role, r.got, r.have)
		}
	}
	return nil
}

// onlineKeysRotated reports whether the root next trusts rotated the keys
// of the timestamp or snapshot role since the one s trusts: the timestamp
// or snapshot metadata s trusts are no longer signed by a threshold of
// the keys next's root gives the role. That is how go-tuf tells a
// rotation (it verifies the metadata it trusted again, under the newest
// root): a change that leaves them valid (a key added, an unused one
// removed, a threshold they still meet) leaves their versions binding,
// and a root that adds a key but keeps a compromised one is no recovery.
// Either rotation frees the three versions, as the specification says
// (go-tuf, reading its cache, frees only those of the metadata that no
// longer verify). The targets keys alone do not count: the trusted
// snapshot, still valid, bounds the targets version, and a repository
// recovers from a fast-forward of targets by rotating the snapshot keys.
func (s *trustedState) onlineKeysRotated(next *trustedState) bool {
	if next.rootVersion == s.rootVersion || next.rootMetadata == nil {
		return false // the same root, the same keys
	}
	if s.timestampMetadata != nil && !acceptsRelabeled(next.rootMetadata, metadata.TIMESTAMP, s.timestampMetadata) {
		return true
	}
	return s.snapshotMetadata != nil && !acceptsRelabeled(next.rootMetadata, metadata.SNAPSHOT, s.snapshotMetadata)
}

// acceptsRelabeled reports whether root would accept m for role once its
// signatures carry whichever key IDs suit: a signature's key ID is not
// signed, so anyone may relabel it, and a root that lists a key anew (a
// new encoding, a new key ID) has not rotated it.
func acceptsRelabeled[T metadata.Roles](root *metadata.Metadata[metadata.RootType], role string, m *metadata.Metadata[T]) bool {
	r, ok := root.Signed.Roles[role]
	if !ok {
		return false
	}
	c := *m
	c.Signatures = nil
	for _, id := range r.KeyIDs {
		single := *root
		single.Signed.Roles = map[string]*metadata.Role{role: {KeyIDs: []string{id}, Threshold: 1}}
		for _, sig := range m.Signatures {
			sig.KeyID = id
			one := *m
			one.Signatures = []metadata.Signature{sig}
			if single.VerifyDelegate(role, &one) == nil {
				c.Signatures = append(c.Signatures, sig)
				break
			}
		}
	}
	return root.VerifyDelegate(role, &c) == nil // go-tuf's threshold: distinct public keys
}

// checkRollback refuses, and logs, a load whose metadata are older than
// those of base.
func (t *TUF) checkRollback(base, next *trustedState) error {
	err := base.rollback(next)
	if err != nil {
		t.log.Warn("condasigs: TUF metadata older than those already trusted refused; keeping the last good root", "repository", conda.Redact(t.opts.RepositoryURL), "error", err)
	} else if base != nil && base.onlineKeysRotated(next) && (next.timestampVersion < base.timestampVersion ||
		next.snapshotVersion < base.snapshotVersion || next.targetsVersion < base.targetsVersion) {
		t.log.Warn("condasigs: the TUF root rotated the timestamp or snapshot keys, and the metadata versions started again: recovery from a fast-forward attack", "repository", conda.Redact(t.opts.RepositoryURL), "root_version", next.rootVersion,
			"timestamp_version", next.timestampVersion, "previous_timestamp_version", base.timestampVersion,
			"snapshot_version", next.snapshotVersion, "previous_snapshot_version", base.snapshotVersion)
	}
	return err
}

// trustedRoot returns the bytes of the root.json of version v that an
// update trusted: the one it started from, or one it downloaded.
func trustedRoot(start []byte, downloaded map[int64][]byte, v int64) []byte {
	if b, ok := downloaded[v]; ok {
		return b
	}
	return start
}

// openDir checks and opens the repository's cache directory for one load
// (nil without a cache).
func (t *TUF) openDir() (*cacheDir, error) {
	if t.dir == "" {
		return nil, nil
	}
	c, err := openDir(t.opts.CacheDir, t.dir, t.mode)
	if err != nil {
		return nil, fmt.Errorf("the TUF cache %s cannot be used: %w", t.dir, err)
	}
	return c, nil
}

// updater returns a go-tuf updater for the repository, anchored in the
// newest root that chains from the last trusted one (base's; without it,
// the initial one) through the rotations kept in the cache c (nil: none),
// and the configuration it shares. local reads the cache alone: nothing
// is downloaded and nothing written. Otherwise the cache is written only
// if it is writable; a read-only cache still serves as a baseline that
// rollbacks are checked against, as base does. go-tuf reads the
// <role>.json files of c by name: c.prepareMetadata must have passed.
func (t *TUF) updater(f tuffetcher.Fetcher, c *cacheDir, local bool, base *trustedState) (*updater.Updater, *config.UpdaterConfig, error) {
	start := t.opts.Root
	if base != nil {
		start = base.root
	}
	cfg, err := config.New(t.opts.RepositoryURL, chainHead(start, c))
	if err != nil {
		return nil, nil, err
	}
	cfg.Fetcher = f
	cfg.UnsafeLocalMode = local
	if c == nil {
		cfg.LocalMetadataDir, cfg.LocalTargetsDir, cfg.DisableLocalCache = noCacheDir, noCacheDir, true
	} else {
		// go-tuf is never given a target: its targets directory is the
		// metadata's, which exists, so that it makes none.
		cfg.LocalMetadataDir, cfg.LocalTargetsDir = c.path, c.path
		cfg.DisableLocalCache = local || !c.writable()
	}
	up, err := updater.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return up, cfg, nil
}

// cacheForUpdate opens the cache for an update, locks it (exclusively if
// it is written, shared otherwise) and readies its metadata for go-tuf;
// the caller closes it, which releases the lock. A cache that cannot be
// used this time is left out, and the update runs in memory: the first
// time, a warning says why. One whose lock another process holds for
// longer than lockWait (a slow update of its own, or a hung process) is
// read without it, its files being replaced whole, and, if it is written,
// used read-only this time: the update starts from the cache's metadata,
// the baseline its rollback checks need, and runs in memory, so that it
// never writes beside the lock's holder, nor waits for it without bound.
// The error is ctx's, ended while the lock was awaited.
func (t *TUF) cacheForUpdate(ctx context.Context) (*cacheDir, error) {
	c, err := t.openDir()
	if err == nil && c != nil {
		err = c.lock(ctx)
		if cerr := ctx.Err(); cerr != nil {
			c.close()
			return nil, cerr
		}
		if errors.Is(err, errLockBusy) {
			if c.writable() {
				c.mode = cacheReadOnly
				t.log.Warn("condasigs: TUF cache locked by another process for too long: updating in memory from it, read without the lock, and writing nothing", "dir", c.path, "error", err)
			} else {
				t.log.Warn("condasigs: TUF cache locked by another process for too long: reading it without the lock", "dir", c.path, "error", err)
			}
			err = nil
		}
		var removed []string
		if err == nil {
			if removed, err = c.prepareMetadata(); len(removed) > 0 {
				t.log.Warn("condasigs: removed TUF cache files that were not private regular files of a sane size", "dir", c.path, "files", removed)
			}
		}
		if err != nil {
			c.close()
			c, err = nil, fmt.Errorf("the TUF cache %s cannot be used: %w", t.dir, err)
		}
	}
	if err != nil {
		if !t.unusable.Swap(true) {
			t.log.Warn("condasigs: TUF cache unusable: updating in memory, without reading or writing it", "dir", t.dir, "error", err)
		}
		return nil, nil
	}
	t.unusable.Store(false)
	return c, nil
}

// update runs a TUF update from the repository, from base (see load).
func (t *TUF) update(ctx context.Context, base *trustedState) (*Snapshot, *trustedState, error) {
	c, err := t.cacheForUpdate(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("TUF update from %s: %w", conda.Redact(t.opts.RepositoryURL), err)
	}
	defer c.close()
	f := &tufFetcher{ctx: ctx, client: t.client, metadataURL: strings.TrimSuffix(t.opts.RepositoryURL, "/") + "/"}
	up, cfg, err := t.updater(f, c, false, base)
	if err == nil {
		err = up.Refresh()
	}
	var (
		trusted trustedmetadata.TrustedMetadata
		state   *trustedState
	)
	if err == nil {
		trusted = up.GetTrustedMetadataSet()
		state = newTrustedState(&trusted, trustedRoot(cfg.LocalTrustedRoot, f.downloadedRoots(), trusted.Root.Signed.Version))
		err = t.checkRollback(base, state)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("TUF update from %s: %w", conda.Redact(t.opts.RepositoryURL), err)
	}
	ti, err := up.GetTargetInfo(t.opts.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
	}
	b, cached := cachedTarget(c, ti)
	if !cached {
		if b, err = downloadTarget(f, cfg.RemoteTargetsURL, trusted.Root.Signed.ConsistentSnapshot, ti); err != nil {
			return nil, nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
		}
	}
	tr, err := parseSingleRoot(b)
	if err != nil {
		return nil, nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
	}
	info := Info{Kind: "tuf", Source: conda.Redact(t.opts.RepositoryURL), LoadedAt: time.Now().UTC(), Digest: digestOf(b), Expires: expiryOf(&trusted)}
	if c.writable() {
		if !cached {
			if err := c.writeAtomic(b, url.PathEscape(ti.Path), targetsDir); err != nil {
				t.log.Warn("condasigs: could not keep the TUF target in the cache; reading the cache alone will fail until this succeeds", "dir", c.path, "error", err)
			}
		}
		t.keep(c, f, trusted.Timestamp.Signed.Version, info.LoadedAt)
	}
	return &Snapshot{Material: tr, Info: info}, state, nil
}

// downloadTarget downloads a target from below targetsURL and checks it
// against the trusted metadata's length and hashes. With consistent
// snapshots its name is prefixed by one of its hashes, SHA-256 if listed,
// as TUF repositories publish it.
func downloadTarget(f tuffetcher.Fetcher, targetsURL string, consistent bool, ti *metadata.TargetFiles) ([]byte, error) {
	name := ti.Path
	if consistent {
		algs := slices.Sorted(maps.Keys(ti.Hashes))
		if len(algs) == 0 {
			return nil, errors.New("the targets metadata lists no hash of it")
		}
		if i := slices.Index(algs, "sha256"); i > 0 {
			algs[0] = algs[i]
		}
		dir, base := path.Split(name)
		name = dir + hex.EncodeToString(ti.Hashes[algs[0]]) + "." + base
	}
	b, err := f.DownloadFile(strings.TrimSuffix(targetsURL, "/")+"/"+name, ti.Length, 0)
	if err != nil {
		return nil, err
	}
	if err := ti.VerifyLengthHashes(b); err != nil {
		return nil, err
	}
	return b, nil
}

// keep writes what a read of the cache alone needs beside go-tuf's files:
// the rotated roots the update walked, and the record of its time. A
// failure costs only a later offline read: it cannot walk the rotation, or
// does not know its age.
func (t *TUF) keep(c *cacheDir, f *tufFetcher, timestampVersion int64, when time.Time) {
	for v, b := range f.downloadedRoots() {
		if err := c.writeAtomic(b, rootFileName(v), stateDir, rootsDir); err != nil {
			t.log.Warn("condasigs: could not keep a rotated TUF root in the cache; reading the cache alone will fail until this succeeds", "dir", c.path, "version", v, "error", err)
		}
	}
	if err := recordUpdate(c, timestampVersion, when); err != nil {
		t.log.Warn("condasigs: could not record the TUF cache's update; read alone, the cache will be of unknown age", "dir", c.path, "error", err)
	}
}

// loadCache reads the trusted root from the cache alone, without a
// connection and without writing, from base (see load), holding the
// cache's lock shared: the metadata are verified against the newest root
// that chains from base's root (or the initial one) and must not have
// expired; the target must match them. A cache that is not private, or
// holds a metadata file go-tuf must not read, is refused.
func (t *TUF) loadCache(ctx context.Context, base *trustedState) (*Snapshot, *trustedState, error) {
	if t.dir == "" {
		return nil, nil, errors.New("offline mode needs a TUF cache, and the cache is disabled")
	}
	c, err := t.openDir()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, t.cacheError(err)
	}
	if err != nil {
		return nil, nil, err
	}
	defer c.close()
	c.mode = cacheReadOnly
	if err := c.lock(ctx); errors.Is(err, errLockBusy) {
		t.log.Warn("condasigs: TUF cache locked by another process for too long: reading it without the lock", "dir", c.path, "error", err)
	} else if err != nil {
		return nil, nil, fmt.Errorf("the TUF cache %s: %w", t.dir, err)
	}
	if _, err := c.prepareMetadata(); err != nil {
		return nil, nil, fmt.Errorf("the TUF cache %s cannot be read: %w", t.dir, err)
	}
	ts, err := readEntry(c.root, metadata.TIMESTAMP+".json", maxTimestampSize)
	var (
		up  *updater.Updater
		cfg *config.UpdaterConfig
	)
	if err == nil {
		up, cfg, err = t.updater(offlineFetcher{}, c, true, base)
	}
	if err == nil {
		err = up.Refresh()
	}
	if err != nil {
		return nil, nil, t.cacheError(err)
	}
	trusted := up.GetTrustedMetadataSet()
	state := newTrustedState(&trusted, cfg.LocalTrustedRoot)
	if err := t.checkRollback(base, state); err != nil {
		return nil, nil, fmt.Errorf("the TUF cache %s: %w", t.dir, err)
	}
	ti, err := up.GetTargetInfo(t.opts.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
	}
	b, ok := cachedTarget(c, ti)
	if !ok {
		return nil, nil, fmt.Errorf("TUF target %s: not in the cache %s, or not as the cached metadata describe it", t.opts.Target, t.dir)
	}
	tr, err := parseSingleRoot(b)
	if err != nil {
		return nil, nil, fmt.Errorf("TUF target %s: %w", t.opts.Target, err)
	}
	info := Info{Kind: "tuf", Source: conda.Redact(t.opts.RepositoryURL), FromCache: true, Digest: digestOf(b), Expires: expiryOf(&trusted)}
	info.LoadedAt, info.AgeUnknown = cacheAge(c, ts, trusted.Timestamp.Signed.Version, trusted.Timestamp.Signed.Expires, time.Now())
	if info.AgeUnknown != "" {
		t.log.Warn("condasigs: the age of the cached trusted root is unknown", "dir", t.dir, "reason", info.AgeUnknown)
	}
	return &Snapshot{Material: tr, Info: info}, state, nil
}

// cacheError says that the cache holds no usable metadata, and that an
// earlier release's cache of the repository, which is not read, lies
// beside it. Its directory is named after the whole URL, so it is named
// only when the URL holds no credentials (conda.Redact leaves it as it
// is): otherwise a user name, password, token or query would be printed.
func (t *TUF) cacheError(err error) error {
	msg := fmt.Sprintf("no valid TUF metadata of %s in the cache %s (the cache is empty or expired)", conda.Redact(t.opts.RepositoryURL), t.dir)
	legacy := filepath.Join(filepath.Dir(t.dir), tuf.URLToPath(t.opts.RepositoryURL))
	if st, serr := os.Lstat(filepath.Join(legacy, metadata.TIMESTAMP+".json")); serr == nil && st.Mode().IsRegular() {
		if conda.Redact(t.opts.RepositoryURL) == t.opts.RepositoryURL {
			msg += fmt.Sprintf("; %s, the cache of an earlier condasigs release, is no longer read: run once online to fill the new one", legacy)
		} else {
			msg += "; the cache of an earlier condasigs release, in an older cache layout beside it, is no longer read: run once online to fill the new one"
		}
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// cachedTarget returns the cached copy of a target if it matches the
// length and hashes the trusted metadata give.
func cachedTarget(c *cacheDir, ti *metadata.TargetFiles) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	b, err := c.read(url.PathEscape(ti.Path), ti.Length, targetsDir)
	if err != nil || ti.VerifyLengthHashes(b) != nil {
		return nil, false
	}
	return b, true
}

// expiryOf is the earliest expiry of the top-level metadata the material
// was verified with; all of it is signed.
func expiryOf(tm *trustedmetadata.TrustedMetadata) time.Time {
	var e time.Time
	if tm.Root != nil {
		e = earliest(e, tm.Root.Signed.Expires.UTC())
	}
	if tm.Timestamp != nil {
		e = earliest(e, tm.Timestamp.Signed.Expires.UTC())
	}
	if tm.Snapshot != nil {
		e = earliest(e, tm.Snapshot.Signed.Expires.UTC())
	}
	if tg := tm.Targets[metadata.TARGETS]; tg != nil {
		e = earliest(e, tg.Signed.Expires.UTC())
	}
	return e
}

// Snapshot returns the current trusted root.
func (t *TUF) Snapshot(context.Context) (*Snapshot, error) { return t.current.Load(), nil }

// refresh updates the trusted root now. On failure the last good root stays
// in use and the error is returned (and remembered for LastError). The
// update starts from the metadata the last load trusted, held in memory
// whether or not the cache is written: metadata older than those (a
// rollback by the mirror or in the cache) are refused, and logged.
func (t *TUF) refresh(ctx context.Context) error {
	t.refreshMu.Lock()
	defer t.refreshMu.Unlock()
	snap, trusted, err := t.load(ctx, t.opts.Offline, t.trusted)
	if err != nil {
		// A refresh cut short by its context (Close, for one) says nothing
		// about the repository: LastError keeps the last real outcome.
		if ctx.Err() == nil {
			t.lastErr.Store(&err)
		}
		return fmt.Errorf("trustroot: %w", err)
	}
	t.current.Store(snap)
	t.trusted = trusted
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
		if err := t.refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if wait >= t.opts.RefreshInterval {
				wait = retryAfterFailure
			} else {
				wait *= 2
			}
			wait = min(wait, t.opts.RefreshInterval)
			t.log.Warn("condasigs: trusted root refresh failed; keeping the last good root", "repository", conda.Redact(t.opts.RepositoryURL), "retry_in", wait, "error", err)
			continue
		}
		wait = t.opts.RefreshInterval
		t.log.Info("condasigs: trusted root refreshed", "repository", conda.Redact(t.opts.RepositoryURL))
	}
}
