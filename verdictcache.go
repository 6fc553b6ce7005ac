package condasigs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/verdictcache"
	"github.com/condasigs/condasigs/internal/version"
	"github.com/condasigs/condasigs/policy"
)

// buildDigest is verdictcache.BuildDigest of this build, computed once per
// process: it describes the process, which does not change.
var buildDigest = sync.OnceValue(func() string { return verdictcache.BuildDigest(version.Version) })

// openVerdicts opens Options.VerdictCache; nil when there is none.
func openVerdicts(store fetch.Cache, log *slog.Logger) *verdictcache.Cache {
	if store == nil {
		return nil
	}
	return verdictcache.Open(store, buildDigest(), log)
}

// verdictHandle returns the job's handle to the verdict cache, or nil when
// its verdict cannot be cached; trustDigest is its trusted material's.
func (v *Verifier) verdictHandle(j *job, trustDigest string) *verdictcache.Handle {
	if v.verdicts == nil || v.policyDigest == "" {
		return nil
	}
	return v.verdicts.Handle(verdictcache.Key{
		MaxSidecar:    strconv.FormatInt(v.fetcher.MaxSidecarSize(), 10),
		TrustRoot:     trustDigest,
		Policy:        v.policyDigest,
		Channel:       j.match.Channel,
		Filename:      j.pkg.Record.Filename,
		PackageSHA256: j.digest,
		SidecarSHA256: j.pkg.Record.AttestationsSHA256,
	})
}

// configDigest is a stable SHA-256 of a policy configuration as given, for
// the verdict cache's key. Configurations that decide alike can differ
// in digest (another spelling of a channel); two that differ in anything
// never share one, and the key's build digest covers what the code makes
// of them (defaults, issuer shorthands).
//
// It is "" (and verdicts are then not cached) if c cannot be encoded,
// which its fields of strings, bools and slices rule out.
func configDigest(c policy.Config) string {
	b, err := json.Marshal(c) // struct fields in order: stable
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// verdictBatch returns the batch entry of the jobs whose sidecar retrieve
// would look up in the verdict cache, read already; nil when there is none.
func (v *Verifier) verdictBatch(ctx context.Context, jobs []*job, errs []error) *verdictcache.Batch {
	if v.verdicts == nil {
		return nil
	}
	var handles []*verdictcache.Handle
	for i, j := range jobs {
		if errs[i] == nil && !j.done && j.verdict != nil && (j.lock == nil || j.lock.unavailable == nil) {
			handles = append(handles, j.verdict)
		}
	}
	return v.verdicts.Batch(ctx, handles)
}
