// Package verdictcache keeps the evidence of verified sidecars between runs
// in a [fetch.Cache], keyed by everything the evidence depends on (see
// [Key]), so that an unchanged package is decided again without its sidecar
// and without cryptography.
//
// A [Cache] is opened once per verifier; each package being verified holds a
// [Handle], which looks its evidence up and stores it. A [Batch] answers for
// all the handles of one batch with a single entry. Retrieval failures are
// never stored. What is read is checked against its key and is otherwise a
// miss; the cache is an optimisation, never a source of truth, but whoever
// can write it can forge evidence (see condasigs.Options.VerdictCache).
//
// # Entries
//
// A single entry is named by the hex SHA-256 of its prefix: the line
// "condasigs verdict 3", each field of the key as a netstring
// ("<length>:<bytes>,", so that no two keys share a prefix), a newline; the
// evidence's JSON follows. The key is compared as bytes, so that a warm run
// decodes only the evidence. A batch entry is named "batch-" and the hex
// SHA-256 of the line "condasigs batch 1" followed by the prefixes of its
// packages, in order; it holds that line, then each package's single entry
// preceded by its length and a newline. Single entries are always written
// too: a batch entry that is missing or damaged falls back to them.
package verdictcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
)

// verdictHeader starts every single entry; its version changes with the
// entry's shape.
const verdictHeader = "condasigs verdict 3\n"

// Key is everything the evidence of a sidecar depends on. The policy is
// applied again to cached evidence on every use (pins and the trusted
// root's age change between runs), but the policy digest is part of the key
// anyway: it decides the channel the statements are checked against, and a
// changed policy should never meet old results.
type Key struct {
	// BuildDigest identifies the code that reached the verdict (see
	// BuildDigest). Cache.Handle sets it to the cache's.
	BuildDigest string
	// MaxSidecar is the fetcher's sidecar size cap, in decimal: a cap
	// lowered since must be applied.
	MaxSidecar    string
	TrustRoot     string // the trusted material's digest
	Policy        string // the compiled policy's digest
	Channel       string // the channel the statements are checked against
	Filename      string
	PackageSHA256 string // the digest the attestations must name
	SidecarSHA256 string
}

// prefix is the start of the key's single entry: the header, then each
// field of the key as a netstring, then a newline.
func (k Key) prefix() []byte {
	fields := [...]string{k.BuildDigest, k.MaxSidecar, k.TrustRoot, k.Policy, k.Channel, k.Filename, k.PackageSHA256, k.SidecarSHA256}
	n := len(verdictHeader) + 1
	for _, f := range fields {
		n += len(f) + 12
	}
	b := make([]byte, 0, n)
	b = append(b, verdictHeader...)
	for _, f := range fields {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
		b = append(b, ',')
	}
	return append(b, '\n')
}

// entryName is the name of a single entry: the SHA-256 of its prefix.
func entryName(prefix []byte) string {
	sum := sha256.Sum256(prefix)
	return hex.EncodeToString(sum[:])
}

// Cache is the verdict cache of one build in a store. A nil *Cache is no
// cache: its Handle is nil.
type Cache struct {
	store fetch.Cache
	build string
	log   *slog.Logger
}

// Open returns the verdict cache in store for the build whose digest is
// build, logging its problems (which cost work, never a verdict) to log.
// It returns nil when store is nil or build is empty: code that cannot be
// identified must not meet verdicts another build reached.
func Open(store fetch.Cache, build string, log *slog.Logger) *Cache {
	if store == nil || build == "" {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{store: store, build: build, log: log}
}

// Handle is one package's place in the cache: its key, and its entry once
// read or written. Its methods are called by one goroutine at a time.
type Handle struct {
	c       *Cache
	key     Key
	prefix  []byte // key.prefix()
	entry   []byte // the single entry, once read or written
	part    []byte // the entry from a batch entry, not yet decoded
	partBad bool   // part did not decode
}

// Handle returns the handle of the package whose evidence k keys, with
// k.BuildDigest set to the cache's, or nil when its evidence cannot be
// cached: no cache, trusted material without a known digest, or a sidecar
// digest that is not a SHA-256.
func (c *Cache) Handle(k Key) *Handle {
	if c == nil || k.TrustRoot == "" || conda.ValidateDigest(k.SidecarSHA256) != nil {
		return nil
	}
	k.BuildDigest = c.build
	return &Handle{c: c, key: k, prefix: k.prefix()}
}

// Key returns the handle's key.
func (h *Handle) Key() Key { return h.key }

// Lookup returns the cached evidence of the handle's package, from its
// part of a batch entry (see Cache.Batch) or from its single entry. A
// missing, unreadable or corrupt entry is a miss, logged unless missing.
func (h *Handle) Lookup(ctx context.Context) ([]attest.Evidence, bool) {
	if h.part != nil {
		evs, ok := decodeEntry(h.part, h.prefix, h.key)
		h.entry, h.part, h.partBad = h.part, nil, !ok
		if ok {
			return evs, true
		}
	}
	c := h.c
	b, err := c.store.Get(ctx, entryName(h.prefix))
	if err != nil {
		if !errors.Is(err, fetch.ErrCacheMiss) {
			c.log.WarnContext(ctx, "condasigs: reading the verdict cache failed", "err", err)
		}
		h.entry = nil
		return nil, false
	}
	evs, ok := decodeEntry(b, h.prefix, h.key)
	if !ok {
		c.log.WarnContext(ctx, "condasigs: ignoring a corrupt verdict cache entry; verifying again", "package", h.key.Filename)
		h.entry = nil
		return nil, false
	}
	h.entry = b
	return evs, true
}

// Store caches the evidence of the handle's verified sidecar. Failing to
// write is logged: it only costs the next run some work.
func (h *Handle) Store(ctx context.Context, evs []attest.Evidence) {
	c := h.c
	b, err := json.Marshal(evs)
	if err != nil {
		c.log.WarnContext(ctx, "condasigs: encoding evidence for the verdict cache failed", "package", h.key.Filename, "err", err)
		h.entry = nil
		return
	}
	h.entry = append(append(make([]byte, 0, len(h.prefix)+len(b)), h.prefix...), b...)
	if err := c.store.Put(ctx, entryName(h.prefix), h.entry); err != nil {
		c.log.WarnContext(ctx, "condasigs: writing the verdict cache failed", "package", h.key.Filename, "err", fmt.Sprint(err))
	}
}

// decodeEntry returns the evidence of an entry that starts with prefix.
func decodeEntry(b, prefix []byte, k Key) ([]attest.Evidence, bool) {
	var evs []attest.Evidence
	rest, ok := bytes.CutPrefix(b, prefix)
	if !ok || json.Unmarshal(rest, &evs) != nil || !soundEvidence(evs, k) {
		return nil, false
	}
	return evs, true
}

// soundEvidence checks cached evidence against its key: one entry per
// bundle, in order, each verified one naming a signer and the key's file
// and digest. It catches mix-ups and damage, not a forger who can write
// the cache.
func soundEvidence(evs []attest.Evidence, k Key) bool {
	if len(evs) == 0 || len(evs) > attest.MaxBundles {
		return false
	}
	for i, ev := range evs {
		if ev.Index != i {
			return false
		}
		if ev.Verified && (!ev.SignatureVerified || ev.Code != "" || ev.SAN == "" || ev.Issuer == "" ||
			ev.SubjectName != k.Filename || ev.SubjectSHA256 != k.PackageSHA256) {
			return false
		}
	}
	return true
}
