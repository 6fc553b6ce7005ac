package condasigs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/testchannel"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// cachedVerifier returns a Verifier on the env's virtual Sigstore, read
// from its trusted_root.json (so that the material has a digest), with a
// verdict cache in dir.
func (e *env) cachedVerifier(t *testing.T, dir string, p policy.Policy, pins *policy.PinStore) *condasigs.Verifier {
	t.Helper()
	if p.Identities == nil {
		p.Identities = trusted
	}
	if e.rootJSON == nil {
		e.rootJSON = e.ss.TrustedRootJSON(t)
	}
	trust, err := trustroot.FromJSON(e.rootJSON)
	require.NoError(t, err)
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: p, Fetcher: e.fetcher, PinStore: pins,
		VerdictCache: mustDirCache(t, dir)})
	require.NoError(t, err)
	return v
}

func (e *env) sidecarRequests(rec fetch.Record) int {
	return e.ch.Requests("/linux-64/" + rec.Filename + ".sigs." + rec.AttestationsSHA256)
}

// comparable drops what differs between a cold and a warm report of the
// same package: the flag saying it came from the cache, and when the
// trusted root was read.
func comparable(t *testing.T, r *condasigs.Report) string {
	t.Helper()
	c := *r
	c.Cached = false
	info := *c.TrustRoot
	info.LoadedAt = time.Time{}
	c.TrustRoot = &info
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return string(b)
}

func TestVerdictCacheWarm(t *testing.T) {
	e := newEnv(t)
	good := e.signed(t, "good-1.0-0.conda", san)
	other := e.signed(t, "other-1.0-0.conda", "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main")
	tampered := e.ch.Add(t, condasigstest.Package{Filename: "tampered-1.0-0.conda",
		Bundles: [][]byte{e.ss.Bundle(t, san, issuer, condasigstest.Statement("tampered-1.0-0.conda", sha([]byte("not it")), e.url))}})
	recs := []fetch.Record{good, other, tampered}
	dir := t.TempDir()
	ctx := context.Background()

	cold := map[string]string{}
	v := e.cachedVerifier(t, dir, policy.Policy{Require: policy.ModeError}, nil)
	for _, rec := range recs {
		rep, err := v.Verify(ctx, e.pkg(rec))
		require.NoError(t, err)
		assert.False(t, rep.Cached)
		cold[rec.Filename] = comparable(t, rep)
		assert.Equal(t, 1, e.sidecarRequests(rec))
	}

	// A new Verifier on the same directory (the next run): the same
	// reports, from the cache, without a sidecar request.
	v = e.cachedVerifier(t, dir, policy.Policy{Require: policy.ModeError}, nil)
	for _, rec := range recs {
		rep, err := v.Verify(ctx, e.pkg(rec))
		require.NoError(t, err)
		assert.True(t, rep.Cached, rec.Filename)
		assert.Equal(t, cold[rec.Filename], comparable(t, rep), rec.Filename)
		assert.Equal(t, 1, e.sidecarRequests(rec), "no request for %s", rec.Filename)
	}
	assert.Contains(t, cold["good-1.0-0.conda"], `"outcome":"pass"`)
	assert.Contains(t, cold["other-1.0-0.conda"], `"outcome":"fail"`)
	assert.Contains(t, cold["tampered-1.0-0.conda"], `"subject-digest"`)

	// The channel losing its sidecars, or failing, changes nothing: a
	// cached verdict needs no retrieval, and nothing evicts it.
	require.NoError(t, os.Remove(filepath.Join(e.ch.Dir, "linux-64", good.Filename+".sigs."+good.AttestationsSHA256)))
	rep, err := v.Verify(ctx, e.pkg(good))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)
	assert.True(t, rep.Cached)
}

// Each part of the key, changed alone, misses the cache: the sidecar is
// fetched and verified again, and the verdict is the fresh one.
func TestVerdictCacheKey(t *testing.T) {
	ctx := context.Background()
	cases := map[string]func(t *testing.T, e *env, dir string, good condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome){
		"package sha256 in repodata changed": func(t *testing.T, e *env, dir string, p condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome) {
			p.Record.SHA256 = sha([]byte("another build"))
			return e.cachedVerifier(t, dir, policy.Policy{}, nil), p, policy.Fail
		},
		"artifact bytes differ": func(t *testing.T, e *env, dir string, p condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome) {
			p.Record.SHA256 = ""
			p.ArtifactSHA256 = sha([]byte("another build"))
			return e.cachedVerifier(t, dir, policy.Policy{}, nil), p, policy.Fail
		},
		"policy changed": func(t *testing.T, e *env, dir string, p condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome) {
			return e.cachedVerifier(t, dir, policy.Policy{Require: policy.ModeWarn}, nil), p, policy.Pass
		},
		"trusted root changed": func(t *testing.T, e *env, dir string, p condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome) {
			// Another virtual Sigstore's root: the bundle no longer verifies.
			trust, err := trustroot.FromJSON(condasigstest.NewSigstore(t).TrustedRootJSON(t))
			require.NoError(t, err)
			v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: policy.Policy{Identities: trusted}, Fetcher: e.fetcher, VerdictCache: mustDirCache(t, dir)})
			require.NoError(t, err)
			return v, p, policy.Fail
		},
		"channel changed": func(t *testing.T, e *env, dir string, p condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome) {
			p.Channel = "https://conda.example.com/elsewhere"
			return e.cachedVerifier(t, dir, policy.Policy{ChannelMismatch: policy.ModeError}, nil), p, policy.Fail
		},
		// The same file and bytes, but repodata now advertises another
		// sidecar, signed by an untrusted identity.
		"sidecar changed": func(t *testing.T, e *env, dir string, p condasigs.Package) (*condasigs.Verifier, condasigs.Package, policy.Outcome) {
			p.Record = e.ch.Add(t, condasigstest.Package{Filename: p.Record.Filename, Signer: e.ss,
				Identity: "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main", Issuer: issuer})
			return e.cachedVerifier(t, dir, policy.Policy{}, nil), p, policy.Fail
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.signed(t, "good-1.0-0.conda", san)
			dir := t.TempDir()
			rep, err := e.cachedVerifier(t, dir, policy.Policy{}, nil).Verify(ctx, e.pkg(rec))
			require.NoError(t, err)
			require.Equal(t, policy.Pass, rep.Outcome)

			v, p, want := change(t, e, dir, e.pkg(rec))
			rep, err = v.Verify(ctx, p)
			require.NoError(t, err)
			assert.False(t, rep.Cached)
			assert.Equal(t, want, rep.Outcome, "%+v", rep.Reasons)
			switch {
			case p.Record.AttestationsSHA256 != rec.AttestationsSHA256:
				assert.Equal(t, 1, e.sidecarRequests(p.Record), "the new sidecar verified")
			case p.ArtifactSHA256 == "":
				assert.Equal(t, 2, e.sidecarRequests(rec), "verified again")
			}
		})
	}
}

// A corrupt entry, or one stored under another key, is ignored, and the
// entry is rebuilt by the next verification.
func TestVerdictCacheCorruptEntries(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	good := e.signed(t, "good-1.0-0.conda", san)
	bad := e.signed(t, "bad-1.0-0.conda", "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main")
	dir := t.TempDir()
	v := e.cachedVerifier(t, dir, policy.Policy{}, nil)
	for _, rec := range []fetch.Record{good, bad} {
		_, err := v.Verify(ctx, e.pkg(rec))
		require.NoError(t, err)
	}
	entries := cacheEntries(t, dir)
	require.Len(t, entries, 2)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	goodEntry, badEntry := read(entries[0]), read(entries[1])
	if strings.Contains(string(goodEntry), "evil") {
		goodEntry, badEntry = badEntry, goodEntry
		entries[0], entries[1] = entries[1], entries[0]
	}
	// An entry is a header line, the key's JSON line, then the evidence.
	evidence := func(b []byte) (head, ev []byte) {
		parts := bytes.SplitN(b, []byte("\n"), 3)
		require.Len(t, parts, 3)
		return b[:len(b)-len(parts[2])], parts[2]
	}
	withEvidence := func(fn func(m map[string]any)) func([]byte) []byte {
		return func(b []byte) []byte {
			head, ev := evidence(b)
			wrapped := testchannel.MutateJSON(t, []byte(`{"b":`+string(ev)+`}`), fn)
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(wrapped, &m))
			return append(append([]byte{}, head...), m["b"]...)
		}
	}
	mutations := map[string]func([]byte) []byte{
		"garbage":   func([]byte) []byte { return []byte("\x00garbage") },
		"empty":     func([]byte) []byte { return nil },
		"truncated": func(b []byte) []byte { return b[:len(b)-10] },
		"other format": func(b []byte) []byte {
			return bytes.Replace(b, []byte("condasigs verdict 3"), []byte("condasigs verdict 4"), 1)
		},
		"no bundles": func(b []byte) []byte {
			head, _ := evidence(b)
			return append(append([]byte{}, head...), "[]"...)
		},
		// The passing package's evidence under the failing package's name:
		// the key inside the entry does not match, so it is not used.
		"another package's entry": func([]byte) []byte { return goodEntry },
		// Its evidence with the failing package's key.
		"another package's evidence": func(b []byte) []byte {
			head, _ := evidence(b)
			_, ev := evidence(goodEntry)
			return append(append([]byte{}, head...), ev...)
		},
		// A forged success without a signer.
		"verified without signer": withEvidence(func(m map[string]any) {
			bundle := m["b"].([]any)[0].(map[string]any)
			bundle["verified"], bundle["code"], bundle["san"] = true, "", ""
		}),
		"index out of order": withEvidence(func(m map[string]any) {
			m["b"].([]any)[0].(map[string]any)["index"] = 1
		}),
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(entries[1], mutate(badEntry), 0o600))
			before := e.sidecarRequests(bad)
			rep, err := e.cachedVerifier(t, dir, policy.Policy{}, nil).Verify(ctx, e.pkg(bad))
			require.NoError(t, err)
			assert.False(t, rep.Cached, "the entry was used")
			assert.Equal(t, policy.Fail, rep.Outcome)
			assert.Equal(t, before+1, e.sidecarRequests(bad))
			assert.Equal(t, string(badEntry), string(read(entries[1])), "rebuilt")
		})
	}
}

func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// The policy is applied to cached evidence afresh: a pin recorded after
// the verdict was cached decides the next run.
func TestVerdictCacheReappliesPins(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.signed(t, "good-1.0-0.conda", san)
	dir := t.TempDir()
	p := policy.Policy{Pinning: policy.ModeError}
	rep, err := e.cachedVerifier(t, dir, p, nil).Verify(ctx, e.pkg(rec))
	require.NoError(t, err)
	require.Equal(t, policy.Pass, rep.Outcome)

	pins, err := policy.LoadPins(filepath.Join(t.TempDir(), "pins.json"))
	require.NoError(t, err)
	pins.Set(rep.Pinning.Channel, rep.Pinning.Package, policy.PinnedSigner{Issuer: issuer, SAN: "https://github.com/demo/other/.github/workflows/x.yml@refs/heads/main"})
	rep, err = e.cachedVerifier(t, dir, p, pins).Verify(ctx, e.pkg(rec))
	require.NoError(t, err)
	assert.True(t, rep.Cached)
	assert.Equal(t, policy.Fail, rep.Outcome, "%+v", rep.Reasons)
}

// Retrieval failures are never cached, and material without a digest
// (built in memory) is never cached.
func TestVerdictCacheWritesOnlyVerifications(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	missing := e.ch.Add(t, condasigstest.Package{Filename: "missing-1.0-0.conda", NoSidecarFile: true,
		Bundles: [][]byte{e.ss.Bundle(t, san, issuer, condasigstest.Statement("missing-1.0-0.conda", "", e.url))}})
	unsigned := e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	dir := t.TempDir()
	v := e.cachedVerifier(t, dir, policy.Policy{}, nil)
	for _, rec := range []fetch.Record{missing, unsigned} {
		_, err := v.Verify(ctx, e.pkg(rec))
		require.NoError(t, err)
	}
	assert.Empty(t, cacheEntries(t, dir))

	good := e.signed(t, "good-1.0-0.conda", san)
	inMemory, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual"),
		Policy: policy.Policy{Identities: trusted}, Fetcher: e.fetcher, VerdictCache: mustDirCache(t, dir)})
	require.NoError(t, err)
	rep, err := inMemory.Verify(ctx, e.pkg(good))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)
	assert.Empty(t, cacheEntries(t, dir))
}

// batchFiles returns the batch entries and the single entries under dir.
func batchFiles(t *testing.T, dir string) (batches, singles []string) {
	for _, p := range cacheEntries(t, dir) {
		if strings.HasPrefix(filepath.Base(p), "batch-") {
			batches = append(batches, p)
		} else {
			singles = append(singles, p)
		}
	}
	return batches, singles
}

// VerifyAll answers an unchanged batch from one batch entry; without it,
// or with a damaged one, from the single entries, and writes it again.
func TestVerdictCacheBatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var pkgs []condasigs.Package
	for _, name := range []string{"a-1.0-0.conda", "b-1.0-0.conda", "c-1.0-0.conda"} {
		pkgs = append(pkgs, e.pkg(e.signed(t, name, san)))
	}
	pkgs = append(pkgs, e.pkg(e.signed(t, "evil-1.0-0.conda", "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main")))
	pkgs = append(pkgs, e.pkg(e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})))
	dir := t.TempDir()
	requests := func() int {
		n := 0
		for _, p := range pkgs {
			n += e.sidecarRequests(p.Record)
		}
		return n
	}
	run := func() (cached int, reports []string) {
		t.Helper()
		for _, r := range e.cachedVerifier(t, dir, policy.Policy{}, nil).VerifyAll(ctx, pkgs, condasigs.BatchOptions{}) {
			require.NoError(t, r.Err)
			if r.Report.Cached {
				cached++
			}
			reports = append(reports, comparable(t, r.Report))
		}
		return cached, reports
	}
	cached, cold := run()
	assert.Equal(t, 0, cached)
	batches, singles := batchFiles(t, dir)
	require.Len(t, batches, 1, "one batch entry for the four signed packages")
	require.Len(t, singles, 4)
	batch, err := os.ReadFile(batches[0])
	require.NoError(t, err)

	// The batch entry alone answers.
	for _, p := range singles {
		require.NoError(t, os.Remove(p))
	}
	before := requests()
	cached, warm := run()
	assert.Equal(t, 4, cached)
	assert.Equal(t, cold, warm)
	assert.Equal(t, before, requests(), "no sidecar request")

	// A damaged batch entry is not used: the packages are verified again
	// (the single entries are gone), and both kinds of entry rewritten.
	_, ev := func() ([]byte, []byte) { // the first part's evidence
		i := bytes.Index(batch, []byte("\n["))
		return batch[:i+1], batch[i+1:]
	}()
	damaged := map[string][]byte{
		"garbage":       []byte("condasigs batch 1\nxyz"),
		"truncated":     batch[:len(batch)-5],
		"trailing":      append(append([]byte{}, batch...), '\n'),
		"wrong header":  bytes.Replace(batch, []byte("condasigs batch 1"), []byte("condasigs batch 9"), 1),
		"evidence flip": bytes.Replace(batch, ev[:40], append([]byte(`[{"index":1,`), ev[12:40]...), 1),
	}
	for name, b := range damaged {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(batches[0], b, 0o600))
			_, singles := batchFiles(t, dir)
			for _, p := range singles {
				require.NoError(t, os.Remove(p))
			}
			before := requests()
			_, again := run()
			assert.Equal(t, cold, again)
			assert.Greater(t, requests(), before, "verified again")
			rewritten, err := os.ReadFile(batches[0])
			require.NoError(t, err)
			assert.Equal(t, batch, rewritten)
		})
	}

	// Another batch (a package fewer) has its own entry, and the single
	// entries answer for it. (A package read from a sound part of a batch
	// entry does not get its single entry written again: a run without
	// the batch entry makes sure they all exist.)
	require.NoError(t, os.Remove(batches[0]))
	run()
	before = requests()
	for _, r := range e.cachedVerifier(t, dir, policy.Policy{}, nil).VerifyAll(ctx, pkgs[1:], condasigs.BatchOptions{}) {
		require.NoError(t, r.Err)
		if r.Report.Status != policy.StatusUnsigned {
			assert.True(t, r.Report.Cached)
		}
	}
	assert.Equal(t, before, requests())
	batches, _ = batchFiles(t, dir)
	assert.Len(t, batches, 2)
}

// A cached verdict never answers for what the fetcher now refuses: a
// sidecar over a lowered size cap, a file:// URL no longer allowed.
func TestVerdictCacheHonoursTheFetcher(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.signed(t, "good-1.0-0.conda", san)
	dir := t.TempDir()
	rep, err := e.cachedVerifier(t, dir, policy.Policy{}, nil).Verify(ctx, e.pkg(rec))
	require.NoError(t, err)
	require.Equal(t, policy.Pass, rep.Outcome)

	e.fetcher = fetch.New(fetch.Options{RetryMax: -1, MaxSidecarSize: 100})
	rep, err = e.cachedVerifier(t, dir, policy.Policy{}, nil).Verify(ctx, e.pkg(rec))
	require.NoError(t, err)
	assert.False(t, rep.Cached)
	assert.Equal(t, []string{"too-large"}, reasonCodes(rep))

	// The same through file://: allowed, cached; then refused.
	local := condasigs.Package{URL: fileURL(e.ch) + "/linux-64/" + rec.Filename, Channel: e.url, Record: rec}
	e.fetcher = fetch.New(fetch.Options{RetryMax: -1, AllowFile: true})
	rep, err = e.cachedVerifier(t, dir, policy.Policy{}, nil).Verify(ctx, local)
	require.NoError(t, err)
	require.Equal(t, policy.Pass, rep.Outcome)
	e.fetcher = fetch.New(fetch.Options{RetryMax: -1})
	_, err = e.cachedVerifier(t, dir, policy.Policy{}, nil).Verify(ctx, local)
	assert.ErrorIs(t, err, fetch.KindInvalidURL)
}
