package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/fixtures"
)

// Differential tests of the fast path (fastca.go) against the plain one:
// the same evidence (verdict, failure code, message and all) for every
// bundle. fastca_test.go does the same at the level of the authorities.

// pair is the same trusted material on both paths.
type pair struct {
	name        string
	fast, plain *attest.Verifier
}

func newPair(t testing.TB, name string, tm root.TrustedMaterial) pair {
	t.Helper()
	fast, err := attest.NewVerifier(tm)
	require.NoError(t, err)
	plain, err := attest.NewPlainVerifier(tm)
	require.NoError(t, err)
	return pair{name, fast, plain}
}

// same fails t unless both paths give raw the same evidence; it returns
// whether it verified.
func (p pair) same(t testing.TB, what string, raw []byte, s attest.Subject) bool {
	t.Helper()
	want := p.plain.VerifyBundle(0, raw, s)
	got := p.fast.VerifyBundle(0, raw, s)
	if !reflect.DeepEqual(want, got) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		t.Fatalf("%s, %s: the fast path disagrees:\nfast  %s\nplain %s", p.name, what, g, w)
	}
	return got.Verified
}

var stagingSubject = attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel}

// realPairs are the real trusted roots, alone and as one set, on both paths.
func realPairs(t testing.TB) []pair {
	pg := fixtures.TrustedRoot(fixtures.PublicGoodRootFile)
	st := fixtures.TrustedRoot(fixtures.StagingRootFile)
	gh := fixtures.TrustedRoot(fixtures.GitHubRootFile)
	return []pair{
		newPair(t, "public-good", pg),
		newPair(t, "staging", st),
		newPair(t, "github", gh),
		newPair(t, "set of the three", instances(gh, st, pg)),
		newPair(t, "pooled", root.TrustedMaterialCollection{pg, st}),
	}
}

// TestFastRealFixtures: the real bundles under every real root and for
// right and wrong subjects, including the wrong roots (a bundle of one
// instance against another's root).
func TestFastRealFixtures(t *testing.T) {
	bundles := []struct {
		name string
		raw  []byte
		s    attest.Subject
	}{
		{"public-good", fixtures.Read(fixtures.BundleFile), realSubject},
		{"staging", fixtures.Read(fixtures.StagingBundleFile), stagingSubject},
	}
	verified := 0
	for _, p := range realPairs(t) {
		for _, b := range bundles {
			for _, s := range []attest.Subject{b.s, {Filename: "evil-1.0-0.conda", SHA256: b.s.SHA256}, {Filename: b.s.Filename, SHA256: strings.Repeat("ab", 32)}, {Filename: b.s.Filename}} {
				if p.same(t, b.name+" for "+s.Filename, b.raw, s) {
					verified++
				}
			}
		}
	}
	// Each bundle verifies under its own root, the set and the pool.
	require.Equal(t, 6, verified)
}

// realMutations alters every byte class of a real bundle: in each
// base64 field (certificate, DSSE payload and signature, log entry body, log
// ID, inclusion proof hashes, checkpoint, SET, RFC 3161 timestamp) bits at
// its first, last and every stride-th decoded byte, and in each number and
// string (log index, integrated time, tree size, kind, version, media type,
// payload type) a changed value.
func realMutations(t testing.TB, file string, stride int) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var walk func(path string, v any, set func(any))
	doc := fixtures.RawJSON(file)
	emit := func(name string) {
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		out[name] = b
	}
	walk = func(path string, v any, set func(any)) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e, func(n any) { x[k] = n })
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e, func(n any) { x[i] = n })
			}
		case string:
			if dec, err := base64.StdEncoding.DecodeString(x); err == nil && len(dec) > 0 && len(x) >= 8 {
				offsets := []int{0, len(dec) - 1}
				for i := stride; i < len(dec)-1; i += stride {
					offsets = append(offsets, i)
				}
				for _, i := range offsets {
					m := append([]byte(nil), dec...)
					m[i] ^= 0x01
					set(base64.StdEncoding.EncodeToString(m))
					emit(fmt.Sprintf("%s byte %d", path, i))
				}
				set(base64.StdEncoding.EncodeToString(dec[:len(dec)-1]))
				emit(path + " truncated")
			} else {
				set(x + "1")
				emit(path + " changed")
			}
			set(x)
		case float64, bool:
			set("0")
			emit(path + " changed")
			set(x)
		}
	}
	walk("", doc, nil)
	return out
}

// structuralMutations reshape a real bundle where the parse rules bite:
// inclusion promise and proof removed, each media type, a certificate
// chain, no envelope, no verification material, no or many log entries.
func structuralMutations(t testing.TB, file string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(name string, fn func(m map[string]any)) {
		m := fixtures.RawJSON(file)
		fn(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		out[name] = b
	}
	vm := func(m map[string]any) map[string]any { return m["verificationMaterial"].(map[string]any) }
	entry := func(m map[string]any) map[string]any { return vm(m)["tlogEntries"].([]any)[0].(map[string]any) }
	add("no inclusion proof", func(m map[string]any) { delete(entry(m), "inclusionProof") })
	add("no inclusion promise", func(m map[string]any) { delete(entry(m), "inclusionPromise") })
	add("neither", func(m map[string]any) { delete(entry(m), "inclusionProof"); delete(entry(m), "inclusionPromise") })
	for _, mt := range []string{
		"application/vnd.dev.sigstore.bundle+json;version=0.1", "application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dev.sigstore.bundle+json;version=0.3", "application/vnd.dev.sigstore.bundle.v0.1+json",
		"application/vnd.dev.sigstore.bundle.v0.2+json", "application/vnd.dev.sigstore.bundle.v0.3.1+json",
		"application/vnd.dev.sigstore.bundle.v0.4+json", "application/vnd.dev.sigstore.bundle.v0.1.0+json",
	} {
		add("media type "+mt, func(m map[string]any) { m["mediaType"] = mt })
		add("media type "+mt+", no inclusion proof", func(m map[string]any) { m["mediaType"] = mt; delete(entry(m), "inclusionProof") })
		add("media type "+mt+", no inclusion promise", func(m map[string]any) { m["mediaType"] = mt; delete(entry(m), "inclusionPromise") })
	}
	add("certificate chain", func(m map[string]any) {
		c := vm(m)["certificate"]
		delete(vm(m), "certificate")
		vm(m)["x509CertificateChain"] = map[string]any{"certificates": []any{c}}
	})
	add("no envelope", func(m map[string]any) { delete(m, "dsseEnvelope") })
	add("message signature instead of DSSE", func(m map[string]any) {
		delete(m, "dsseEnvelope")
		m["messageSignature"] = map[string]any{
			"messageDigest": map[string]any{"algorithm": "SHA2_256", "digest": base64.StdEncoding.EncodeToString(make([]byte, 32))},
			"signature":     base64.StdEncoding.EncodeToString([]byte("sig")),
		}
	})
	add("no verification material", func(m map[string]any) { delete(m, "verificationMaterial") })
	add("no log entries", func(m map[string]any) { delete(vm(m), "tlogEntries") })
	add("the log entry twice", func(m map[string]any) { vm(m)["tlogEntries"] = []any{entry(m), entry(m)} })
	add("too many log entries", func(m map[string]any) {
		var many []any
		for range 40 {
			many = append(many, entry(m))
		}
		vm(m)["tlogEntries"] = many
	})
	return out
}

// TestFastMutationCorpus: every mutation of each real bundle gets the
// same evidence on both paths, under its own root and the other's.
func TestFastMutationCorpus(t *testing.T) {
	stride := 37
	if testing.Short() {
		stride = 211
	}
	pg := newPair(t, "public-good", fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	st := newPair(t, "staging", fixtures.TrustedRoot(fixtures.StagingRootFile))
	for _, c := range []struct {
		file string
		s    attest.Subject
	}{{fixtures.BundleFile, realSubject}, {fixtures.StagingBundleFile, stagingSubject}} {
		muts := realMutations(t, c.file, stride)
		require.Greater(t, len(muts), 40)
		t.Logf("%s: %d field mutations, %d byte flips", c.file, len(muts), len(fixtures.Read(c.file))/stride)
		for name, raw := range structuralMutations(t, c.file) {
			muts[name] = raw
		}
		for name, raw := range muts {
			pg.same(t, name, raw, c.s)
			st.same(t, name, raw, c.s)
		}
		// And raw byte flips, as TestRealBundleEveryByteFlip.
		raw := fixtures.Read(c.file)
		for i := 0; i < len(raw); i += stride {
			m := append([]byte(nil), raw...)
			m[i] ^= 0x01
			pg.same(t, fmt.Sprintf("flip at %d", i), m, c.s)
			st.same(t, fmt.Sprintf("flip at %d", i), m, c.s)
		}
	}
}

// withCA is trusted material whose Fulcio CAs are replaced.
type withCA struct {
	root.TrustedMaterial
	cas []root.CertificateAuthority
}

func (m withCA) FulcioCertificateAuthorities() []root.CertificateAuthority { return m.cas }

// TestFastVirtualInstances: bundles of throw-away Sigstore instances, good
// and hostile: certificates expired or not yet valid at the observer time,
// a wrong root, a cross-instance bundle, an intermediate not issued by the
// root, and sets of instances.
func TestFastVirtualInstances(t *testing.T) {
	a, b := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	st := condasigstest.Statement(vFilename, vSHA, vChannel)
	s := attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel}
	caOf := func(x *condasigstest.Sigstore) *root.FulcioCertificateAuthority {
		return x.TrustedMaterial().FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	}
	// A's intermediate under B's root.
	foreign := *caOf(a)
	foreign.Root = caOf(b).Root
	pairs := []pair{
		newPair(t, "A", a.TrustedMaterial()),
		newPair(t, "B", b.TrustedMaterial()),
		newPair(t, "set of A and B", instances(a.TrustedMaterial(), b.TrustedMaterial())),
		newPair(t, "pool of A and B", root.TrustedMaterialCollection{a.TrustedMaterial(), b.TrustedMaterial()}),
		newPair(t, "A with its intermediate under B's root", withCA{a.TrustedMaterial(), []root.CertificateAuthority{&foreign}}),
	}
	now := time.Now()
	bundles := map[string][]byte{
		"A":                                     a.Bundle(t, vSAN, vIssuer, st),
		"B":                                     b.Bundle(t, vSAN, vIssuer, st),
		"A logged by B":                         a.BundleLoggedBy(t, b, vSAN, vIssuer, st),
		"A, observed before its leaf":           a.BundleAt(t, vSAN, vIssuer, st, now.Add(-time.Hour)),
		"A, observed after its leaf":            a.BundleAt(t, vSAN, vIssuer, st, now.Add(time.Hour)),
		"A, observed at the leaf's last second": a.BundleAt(t, vSAN, vIssuer, st, now.Add(10*time.Minute)),
	}
	verified := map[string]int{}
	for _, p := range pairs {
		for name, raw := range bundles {
			if p.same(t, name, raw, s) {
				verified[p.name+": "+name]++
			}
		}
	}
	require.Equal(t, map[string]int{
		"A: A": 1, "B: B": 1, "set of A and B: A": 1, "set of A and B: B": 1,
		"pool of A and B: A": 1, "pool of A and B: B": 1, "pool of A and B: A logged by B": 1,
		"A: A, observed at the leaf's last second": 1, "set of A and B: A, observed at the leaf's last second": 1,
		"pool of A and B: A, observed at the leaf's last second": 1,
	}, verified)
}

// FuzzFastPlain runs both paths on mutated real bundles, under both real
// roots, and fails on any difference in the evidence.
func FuzzFastPlain(f *testing.F) {
	f.Add(fixtures.Read(fixtures.BundleFile))
	f.Add(fixtures.Read(fixtures.StagingBundleFile))
	f.Add([]byte(`{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	// The other attest fuzz targets' seeds that are objects, as bundles.
	for _, s := range []string{"{}", `{"a": [1, {"b": null}]}`, `{"a": 1, "a": 2}`, "{\"\xff\": 1}", `{"a":"\u0000"}`} {
		f.Add([]byte(s))
	}
	pairs := []pair{
		newPair(f, "public-good", fixtures.TrustedRoot(fixtures.PublicGoodRootFile)),
		newPair(f, "staging", fixtures.TrustedRoot(fixtures.StagingRootFile)),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range pairs {
			p.same(t, "fuzzed", data, realSubject)
			p.same(t, "fuzzed", data, stagingSubject)
		}
	})
}
