package attest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
)

// Fuzz targets of the attest package. Run them with scripts/fuzz.sh; their
// seed corpora (f.Add and testdata/fuzz) run with the ordinary tests.

// FuzzParseSidecar: ParseSidecar never panics; what it accepts is 1 to
// MaxBundles JSON objects, the elements of the array that data is.
func FuzzParseSidecar(f *testing.F) {
	f.Add(fixtures.Sidecar(fixtures.BundleFile))
	f.Add(fixtures.Sidecar(fixtures.StagingBundleFile))
	for _, s := range []string{
		"", "null", "{}", "[]", "[1]", `["x"]`, "[{}", "[{}] x", "\xff\xfe", " \t\r\n[{}]\n",
		`[{}, {"a": [1, {"b": null}]}]`, `[{"a": 1, "a": 2}]`, `[{}, null]`, "[{\"\xff\": 1}]",
		"\ufeff[{}]", "[[{}]]", `[{"a":"\u0000"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raws, err := attest.ParseSidecar(data)
		if err != nil {
			if !errors.Is(err, attest.ErrMalformedSidecar) {
				t.Fatalf("error %v does not wrap ErrMalformedSidecar", err)
			}
			return
		}
		if n := len(raws); n < 1 || n > attest.MaxBundles {
			t.Fatalf("accepted a sidecar of %d bundles", n)
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil || len(elems) != len(raws) {
			t.Fatalf("accepted %q, which is not an array of %d elements: %v", data, len(raws), err)
		}
		for i, b := range raws {
			if len(b) == 0 || b[0] != '{' {
				t.Fatalf("element %d is not an object: %q", i, b)
			}
			if !bytes.Equal(b, elems[i]) {
				t.Fatalf("element %d is %q, the array holds %q", i, b, elems[i])
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(b, &obj); err != nil {
				t.Fatalf("element %d is not a JSON object: %v", i, err)
			}
		}
	})
}

// fuzzCase is a real bundle with the verifier and subject it verifies
// under, and the evidence that yields.
type fuzzCase struct {
	name    string
	bundle  []byte
	v       *attest.Verifier
	subject attest.Subject
	want    attest.Evidence // MediaType cleared: its minor version is not signed
}

func fuzzCases(f *testing.F) []fuzzCase {
	f.Helper()
	cases := []fuzzCase{
		{name: "public-good rekor v1", bundle: fixtures.Read(fixtures.BundleFile),
			subject: attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.Channel}},
		{name: "staging rekor v2", bundle: fixtures.Read(fixtures.StagingBundleFile),
			subject: attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel}},
	}
	roots := []string{fixtures.PublicGoodRootFile, fixtures.StagingRootFile}
	for i := range cases {
		v, err := attest.NewVerifier(fixtures.TrustedRoot(roots[i]))
		if err != nil {
			f.Fatal(err)
		}
		cases[i].v = v
		cases[i].want = v.VerifyBundle(0, cases[i].bundle, cases[i].subject)
		if !cases[i].want.Verified {
			f.Fatalf("%s: the real bundle does not verify: %s", cases[i].name, cases[i].want.Message)
		}
		cases[i].want.MediaType = ""
	}
	return cases
}

// sameEvidence fails t unless got, a verified evidence, is want but for its
// media type and index.
func sameEvidence(t *testing.T, what string, want, got attest.Evidence, index int) {
	t.Helper()
	if got.Index != index {
		t.Fatalf("%s: evidence has index %d, want %d", what, got.Index, index)
	}
	got.MediaType, got.Index = "", want.Index
	if !reflect.DeepEqual(want, got) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		t.Fatalf("%s: a mutated bundle verifies with other evidence:\n got %s\nwant %s", what, g, w)
	}
}

// FuzzVerifyBundle mutates the real bundles (see
// TestRealBundleEveryByteFlip): a mutated bundle either fails, or verifies
// with exactly the evidence of the original (signer, issuer, claims,
// statement, log entries, timestamps), under each trusted root. A failure
// always carries a code and a message, and never has SignatureVerified:
// the statement is signed, so a bundle whose signature verifies attests
// the real package.
func FuzzVerifyBundle(f *testing.F) {
	cases := fuzzCases(f)
	for _, c := range cases {
		f.Add(c.bundle)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range cases {
			got := c.v.VerifyBundle(0, data, c.subject)
			if !got.Verified {
				if got.Code == "" || got.Message == "" {
					t.Fatalf("%s: a failure without code or message: %+v", c.name, got)
				}
				if got.SignatureVerified {
					t.Fatalf("%s: the signature verifies but the bundle fails with %s: %s", c.name, got.Code, got.Message)
				}
				continue
			}
			if got.Code != "" || !got.SignatureVerified {
				t.Fatalf("%s: verified with code %q, signature verified %v", c.name, got.Code, got.SignatureVerified)
			}
			sameEvidence(t, c.name, c.want, got, 0)
		}
	})
}

// FuzzVerifySidecar mutates the real sidecars: VerifySidecar never panics,
// fails exactly when ParseSidecar does, and otherwise returns one evidence
// per bundle, in order, each verified one identical to the original's.
func FuzzVerifySidecar(f *testing.F) {
	cases := fuzzCases(f)
	pg := cases[0]
	f.Add(fixtures.Sidecar(fixtures.BundleFile))
	f.Add(fixtures.Sidecar(fixtures.StagingBundleFile))
	good := string(pg.bundle)
	f.Add([]byte("[" + good + `, {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}, ` + good + "]"))
	f.Add([]byte("[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raws, perr := attest.ParseSidecar(data)
		evs, err := pg.v.VerifySidecar(context.Background(), data, pg.subject)
		if err != nil {
			if perr == nil || !errors.Is(err, attest.ErrMalformedSidecar) {
				t.Fatalf("VerifySidecar failed with %v where ParseSidecar gave %v", err, perr)
			}
			return
		}
		if perr != nil {
			t.Fatalf("VerifySidecar accepted a sidecar ParseSidecar refuses: %v", perr)
		}
		if len(evs) != len(raws) {
			t.Fatalf("%d evidences for %d bundles", len(evs), len(raws))
		}
		for i, ev := range evs {
			if !ev.Verified {
				if ev.Index != i || ev.Code == "" {
					t.Fatalf("bundle %d: a failure with index %d, code %q", i, ev.Index, ev.Code)
				}
				continue
			}
			sameEvidence(t, pg.name, pg.want, ev, i)
		}
	})
}
