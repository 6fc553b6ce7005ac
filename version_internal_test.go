package condasigs

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/verdictcache"
	"github.com/condasigs/condasigs/policy"
)

// The build digest is known in a test binary (from the executable), stable
// within the process, and part of every verdict key; code that cannot be
// identified caches nothing.
func TestBuildDigestKeysVerdicts(t *testing.T) {
	d := buildDigest()
	if len(d) != 32 || d != buildDigest() {
		t.Fatalf("buildDigest() = %q, want a stable 32-hex digest", d)
	}
	rules, err := policy.CompileConfig(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	store := fetch.DirCache(t.TempDir())
	j := &job{pkg: Package{Record: fetch.Record{Filename: "a-1-0.conda", AttestationsSHA256: strings.Repeat("ab", 32)}}}
	v := &Verifier{verdicts: openVerdicts(store, nil), rules: rules, fetcher: fetch.New(fetch.Options{})}
	h := v.verdictHandle(j, "sha256:00")
	if h == nil || h.Key().BuildDigest != d {
		t.Fatalf("not keyed by the build digest: %+v", h)
	}
	if v.verdictHandle(j, "") != nil {
		t.Fatal("keyed without a trusted-material digest")
	}
	v.verdicts = verdictcache.Open(store, "", slog.New(slog.DiscardHandler))
	if v.verdictHandle(j, "sha256:00") != nil {
		t.Fatal("keyed without a build digest")
	}
}
