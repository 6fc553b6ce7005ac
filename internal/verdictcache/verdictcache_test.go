package verdictcache

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/memcache"
)

func testKey() Key {
	return Key{MaxSidecar: "4194304", TrustRoot: "sha256:00", Policy: "p", Channel: "https://c",
		Filename: "a-1-0.conda", PackageSHA256: "aa", SidecarSHA256: strings.Repeat("bb", 32)}
}

func evidenceOf(k Key) []attest.Evidence {
	return []attest.Evidence{{Index: 0, Verified: true, SignatureVerified: true, SAN: "s", Issuer: "i",
		SubjectName: k.Filename, SubjectSHA256: k.PackageSHA256}}
}

// The build digest is known in a test binary (from the executable) and
// stable within the process.
func TestBuildDigest(t *testing.T) {
	d := BuildDigest("1.0")
	if len(d) != 32 || d != BuildDigest("1.0") {
		t.Fatalf("BuildDigest() = %q, want a stable 32-hex digest", d)
	}
	if BuildDigest("1.1") == d {
		t.Fatal("the version is not part of the build digest")
	}
}

// Each field of the key, changed alone, changes the entry's name: two
// builds, or two packages, never share an entry.
func TestKeyFields(t *testing.T) {
	k := testKey()
	k.BuildDigest = "build"
	fields := []*string{&k.BuildDigest, &k.MaxSidecar, &k.TrustRoot, &k.Policy, &k.Channel, &k.Filename, &k.PackageSHA256, &k.SidecarSHA256}
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
	// The on-disk shape, which existing caches hold.
	want := "condasigs verdict 3\n5:build,7:4194304,9:sha256:00,1:p,9:https://c,11:a-1-0.conda,2:aa,64:" + strings.Repeat("bb", 32) + ",\n"
	if got := string(k.prefix()); got != want {
		t.Fatalf("prefix = %q, want %q", got, want)
	}
}

// Without a store or a build digest there is no cache; without a trusted
// digest or a sidecar digest, no handle.
func TestHandleNeedsAKey(t *testing.T) {
	store := memcache.New(1 << 20)
	if Open(nil, "b", nil) != nil || Open(store, "", nil) != nil {
		t.Fatal("a cache without a store or a build digest")
	}
	var none *Cache
	if none.Handle(testKey()) != nil {
		t.Fatal("a handle of no cache")
	}
	c := Open(store, "b", nil)
	k := testKey()
	k.TrustRoot = ""
	if c.Handle(k) != nil {
		t.Fatal("a handle without a trusted digest")
	}
	k = testKey()
	k.SidecarSHA256 = "bb"
	if c.Handle(k) != nil {
		t.Fatal("a handle without a sidecar digest")
	}
	k = testKey()
	k.BuildDigest = "other"
	if h := c.Handle(k); h == nil || h.Key().BuildDigest != "b" {
		t.Fatalf("the handle's key is not the cache's build: %+v", h)
	}
}

// Stored evidence is looked up by another handle of the same key, in the
// same build only.
func TestStoreLookup(t *testing.T) {
	ctx := context.Background()
	store := memcache.New(1 << 20)
	c := Open(store, "b", slog.New(slog.DiscardHandler))
	if _, ok := c.Handle(testKey()).Lookup(ctx); ok {
		t.Fatal("a hit in an empty cache")
	}
	evs := evidenceOf(testKey())
	c.Handle(testKey()).Store(ctx, evs)
	got, ok := c.Handle(testKey()).Lookup(ctx)
	if !ok || len(got) != 1 || !reflect.DeepEqual(got, evs) {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}
	if _, ok := Open(store, "other build", nil).Handle(testKey()).Lookup(ctx); ok {
		t.Fatal("another build met this one's evidence")
	}
	// Evidence for another file is not sound for this key.
	k := testKey()
	k.Filename = "b-1-0.conda"
	c.Handle(k).Store(ctx, evs)
	if _, ok := c.Handle(k).Lookup(ctx); ok {
		t.Fatal("evidence naming another file was used")
	}
}

// A batch entry is written once every handle has its entry, answers for
// all of them, and is written again when a part of it is damaged.
func TestBatch(t *testing.T) {
	ctx := context.Background()
	store := memcache.New(1 << 20)
	c := Open(store, "b", nil)
	keys := []Key{testKey(), testKey(), testKey()}
	keys[1].Filename, keys[2].Filename = "b-1-0.conda", "c-1-0.conda"
	handles := func() []*Handle {
		var hs []*Handle
		for _, k := range keys {
			hs = append(hs, c.Handle(k))
		}
		return hs
	}
	if c.Batch(ctx, handles()[:1]) != nil {
		t.Fatal("a batch of one")
	}
	hs := handles()
	b := c.Batch(ctx, hs)
	if b.hit {
		t.Fatal("a batch entry in an empty cache")
	}
	for i, h := range hs {
		if _, ok := h.Lookup(ctx); ok {
			t.Fatal("a hit in an empty cache")
		}
		if i < 2 {
			h.Store(ctx, evidenceOf(keys[i]))
		}
	}
	b.Store(ctx)
	if _, err := store.Get(ctx, b.name); err == nil {
		t.Fatal("a batch entry written without every package's entry")
	}
	hs[2].Store(ctx, evidenceOf(keys[2]))
	b.Store(ctx)
	entry, err := store.Get(ctx, b.name)
	if err != nil || !bytes.HasPrefix(entry, []byte(batchHeader)) {
		t.Fatalf("no batch entry: %v", err)
	}

	// The batch entry alone answers.
	lone := memcache.New(1 << 20)
	if err := lone.Put(ctx, b.name, entry); err != nil {
		t.Fatal(err)
	}
	c = Open(lone, "b", nil)
	hs = handles()
	b = c.Batch(ctx, hs)
	for i, h := range hs {
		if got, ok := h.Lookup(ctx); !ok || got[0].SubjectName != keys[i].Filename {
			t.Fatalf("%s: Lookup = %+v, %v", keys[i].Filename, got, ok)
		}
	}
	if !b.hit || b.anyBad() {
		t.Fatal("the batch entry was not used whole")
	}

	// A damaged part falls back to the single entry, and the batch entry
	// is written again.
	damaged := bytes.Replace(entry, []byte(`"index":0`), []byte(`"index":1`), 1)
	if err := lone.Put(ctx, b.name, damaged); err != nil {
		t.Fatal(err)
	}
	hs = handles()
	b = c.Batch(ctx, hs)
	for i, h := range hs {
		if _, ok := h.Lookup(ctx); !ok {
			h.Store(ctx, evidenceOf(keys[i]))
		}
	}
	if !b.anyBad() {
		t.Fatal("the damaged part was used")
	}
	b.Store(ctx)
	if again, _ := lone.Get(ctx, b.name); !bytes.Equal(again, entry) {
		t.Fatalf("batch entry not rewritten: %q", again)
	}
}
