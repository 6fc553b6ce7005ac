package condasigs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/fetch"
)

// verdictFormat is the version of a verdict cache entry's shape.
const verdictFormat = 1

// verdictKey is everything the evidence of a sidecar depends on. The
// policy is applied again to cached evidence on every use (pins and the
// trust root's age change between runs), but the policy digest is part of
// the key anyway: it decides the channel the statements are checked
// against, and a changed policy should never meet old results.
type verdictKey struct {
	Code          string `json:"code"`
	TrustRoot     string `json:"trustRoot"`
	Policy        string `json:"policy"`
	Channel       string `json:"channel"`
	Filename      string `json:"filename"`
	PackageSHA256 string `json:"packageSHA256"`
	SidecarSHA256 string `json:"sidecarSHA256"`
}

// name is the cache key: the SHA-256 of the key's canonical JSON.
func (k verdictKey) name() string {
	b, _ := json.Marshal(k) // strings only: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type verdictEntry struct {
	Format  int               `json:"format"`
	Key     verdictKey        `json:"key"`
	Bundles []attest.Evidence `json:"bundles"`
}

// verdictKeyOf returns the cache key of a job whose sidecar is advertised,
// or false when its verdict cannot be cached: no cache, or trusted
// material without a known digest.
func (v *Verifier) verdictKeyOf(j *job) (verdictKey, bool) {
	if v.verdicts == nil || j.trustDigest == "" || fetch.ValidateDigest(j.pkg.Record.AttestationsSHA256) != nil {
		return verdictKey{}, false
	}
	return verdictKey{
		Code:          v.code,
		TrustRoot:     j.trustDigest,
		Policy:        v.rules.Digest(),
		Channel:       j.match.Channel,
		Filename:      j.pkg.Record.Filename,
		PackageSHA256: j.digest,
		SidecarSHA256: j.pkg.Record.AttestationsSHA256,
	}, true
}

// cachedEvidence returns the evidence cached under k, if a sound entry
// exists. Anything else, a corrupt entry included, is a miss.
func (v *Verifier) cachedEvidence(ctx context.Context, k verdictKey) ([]attest.Evidence, bool) {
	b, err := v.verdicts.Get(ctx, k.name())
	if err != nil {
		if !errors.Is(err, fetch.ErrCacheMiss) {
			v.log.WarnContext(ctx, "condasigs: reading the verdict cache failed", "err", err)
		}
		return nil, false
	}
	var e verdictEntry
	if err := json.Unmarshal(b, &e); err != nil || e.Format != verdictFormat || e.Key != k || !soundEvidence(e.Bundles) {
		v.log.WarnContext(ctx, "condasigs: ignoring a corrupt verdict cache entry; verifying again", "package", k.Filename)
		return nil, false
	}
	return e.Bundles, true
}

// soundEvidence checks the shape of cached evidence: one entry per
// bundle, in order, each verified one naming a signer.
func soundEvidence(evs []attest.Evidence) bool {
	if len(evs) == 0 || len(evs) > attest.MaxBundles {
		return false
	}
	for i, ev := range evs {
		if ev.Index != i || (ev.Verified && (!ev.SignatureVerified || ev.Code != "" || ev.SAN == "" || ev.Issuer == "")) {
			return false
		}
	}
	return true
}

// storeEvidence caches the evidence of a verified sidecar. Failing to
// write only costs the next run some work.
func (v *Verifier) storeEvidence(ctx context.Context, k verdictKey, evs []attest.Evidence) {
	b, err := json.Marshal(verdictEntry{Format: verdictFormat, Key: k, Bundles: evs})
	if err == nil {
		err = v.verdicts.Put(ctx, k.name(), b)
	}
	if err != nil {
		v.log.WarnContext(ctx, "condasigs: writing the verdict cache failed", "package", k.Filename, "err", fmt.Sprint(err))
	}
}
