package condasigs

import (
	"bytes"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
)

// The code digest is known in a test binary (from the executable), stable
// within the process, and part of every verdict key: other code never
// meets this code's verdicts.
func TestCodeDigestKeysVerdicts(t *testing.T) {
	d := codeDigest()
	if len(d) != 32 || d != codeDigest() {
		t.Fatalf("codeDigest() = %q, want a stable 32-hex digest", d)
	}
	k := verdictKey{Code: d, MaxSidecar: "4194304", TrustRoot: "sha256:00", Policy: "p", Channel: "https://c", Filename: "a-1-0.conda", PackageSHA256: "aa", SidecarSHA256: "bb"}
	other := k
	other.Code = "another build"
	if bytes.Equal(k.prefix(), other.prefix()) || entryName(k.prefix()) == entryName(other.prefix()) {
		t.Fatal("two builds share verdict keys")
	}
	// Each field, changed alone, changes the key.
	fields := []*string{&k.Code, &k.MaxSidecar, &k.TrustRoot, &k.Policy, &k.Channel, &k.Filename, &k.PackageSHA256, &k.SidecarSHA256}
	seen := map[string]bool{entryName(k.prefix()): true}
	for _, f := range fields {
		saved := *f
		*f += "x"
		if seen[entryName(k.prefix())] {
			t.Fatalf("changing %q does not change the key", saved)
		}
		seen[entryName(k.prefix())] = true
		*f = saved
	}
	// Code that cannot be identified caches nothing.
	rules, err := policy.CompileConfig(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	j := &job{trustDigest: "sha256:00", pkg: Package{Record: fetch.Record{Filename: "a-1-0.conda", AttestationsSHA256: strings.Repeat("ab", 32)}}}
	v := &Verifier{verdicts: fetch.DirCache(t.TempDir()), rules: rules, fetcher: fetch.New(fetch.Options{}), code: d}
	if _, ok := v.verdictKeyOf(j); !ok {
		t.Fatal("not keyed with a known code digest")
	}
	v.code = ""
	if _, ok := v.verdictKeyOf(j); ok {
		t.Fatal("keyed without a code digest")
	}
}
