package condasigs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
)

// verdictHeader starts every verdict cache entry; its version changes with
// the entry's shape. An entry is the header, the key's fields and a
// newline, then the evidence's JSON: the key is compared as bytes, so that
// a warm run decodes only the evidence.
const verdictHeader = "condasigs verdict 3\n"

// verdictKey is everything the evidence of a sidecar depends on. The
// policy is applied again to cached evidence on every use (pins and the
// trust root's age change between runs), but the policy digest is part of
// the key anyway: it decides the channel the statements are checked
// against, and a changed policy should never meet old results.
type verdictKey struct {
	Code          string
	MaxSidecar    string // the fetcher's size cap: a cap lowered since must be applied
	TrustRoot     string
	Policy        string
	Channel       string
	Filename      string
	PackageSHA256 string
	SidecarSHA256 string
}

// prefix is the start of the key's entry: the header, then each field of
// the key as a netstring ("<length>:<bytes>,"), which no two keys share,
// then a newline.
func (k verdictKey) prefix() []byte {
	fields := [...]string{k.Code, k.MaxSidecar, k.TrustRoot, k.Policy, k.Channel, k.Filename, k.PackageSHA256, k.SidecarSHA256}
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

// entryName is the entry's cache key: the SHA-256 of its prefix.
func entryName(prefix []byte) string {
	sum := sha256.Sum256(prefix)
	return hex.EncodeToString(sum[:])
}

// verdictKeyOf returns the cache key of a job whose sidecar is advertised,
// or false when its verdict cannot be cached: no cache, or trusted
// material without a known digest.
func (v *Verifier) verdictKeyOf(j *job) (verdictKey, bool) {
	if v.verdicts == nil || v.code == "" || j.trustDigest == "" || conda.ValidateDigest(j.pkg.Record.AttestationsSHA256) != nil {
		return verdictKey{}, false
	}
	return verdictKey{
		Code:          v.code, // a digest of the code, see codeDigest
		MaxSidecar:    strconv.FormatInt(v.fetcher.MaxSidecarSize(), 10),
		TrustRoot:     j.trustDigest,
		Policy:        v.rules.Digest(),
		Channel:       j.match.Channel,
		Filename:      j.pkg.Record.Filename,
		PackageSHA256: j.digest,
		SidecarSHA256: j.pkg.Record.AttestationsSHA256,
	}, true
}

// cachedEvidence returns the evidence cached under k and its entry, if a
// sound entry exists. Anything else, a corrupt entry included, is a miss.
func (v *Verifier) cachedEvidence(ctx context.Context, k verdictKey, prefix []byte) ([]attest.Evidence, []byte, bool) {
	b, err := v.verdicts.Get(ctx, entryName(prefix))
	if err != nil {
		if !errors.Is(err, fetch.ErrCacheMiss) {
			v.log.WarnContext(ctx, "condasigs: reading the verdict cache failed", "err", err)
		}
		return nil, nil, false
	}
	evs, ok := decodeEntry(b, prefix, k)
	if !ok {
		v.log.WarnContext(ctx, "condasigs: ignoring a corrupt verdict cache entry; verifying again", "package", k.Filename)
		return nil, nil, false
	}
	return evs, b, true
}

// decodeEntry returns the evidence of an entry that starts with prefix.
func decodeEntry(b, prefix []byte, k verdictKey) ([]attest.Evidence, bool) {
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
// the cache (see Options.VerdictCache).
func soundEvidence(evs []attest.Evidence, k verdictKey) bool {
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

// storeEvidence caches the evidence of a verified sidecar and returns the
// entry. Failing to write only costs the next run some work.
func (v *Verifier) storeEvidence(ctx context.Context, k verdictKey, prefix []byte, evs []attest.Evidence) []byte {
	b, err := json.Marshal(evs)
	if err != nil {
		v.log.WarnContext(ctx, "condasigs: encoding evidence for the verdict cache failed", "package", k.Filename, "err", err)
		return nil
	}
	entry := append(append(make([]byte, 0, len(prefix)+len(b)), prefix...), b...)
	if err := v.verdicts.Put(ctx, entryName(prefix), entry); err != nil {
		v.log.WarnContext(ctx, "condasigs: writing the verdict cache failed", "package", k.Filename, "err", fmt.Sprint(err))
	}
	return entry
}
