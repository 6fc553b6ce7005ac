package condasigs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/testchannel"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// world is the trusted material and identities a case is verified with.
type world int

const (
	virtualWorld world = iota // testchannel's virtual Sigstore, the demo identity
	realWorld                 // the public-good trusted root, the real fixture's signer
)

// advWant is the exact verdict a case must get under require: error.
type advWant struct {
	status policy.Status
	// codes are the report's reason codes, exactly and in order.
	codes []string
	// evidence holds each bundle's evidence code ("" for a bundle that
	// verified); nil when the report must carry no bundle.
	evidence []attest.Code
}

func retrievalFailure(kind fetch.Kind) advWant {
	return advWant{status: policy.StatusRetrievalFailure, codes: []string{string(kind)}}
}

// bundleFailure: every bundle fails with its code, so nothing is trusted.
func bundleFailure(codes ...attest.Code) advWant {
	w := advWant{status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle"}, evidence: codes}
	for _, c := range codes {
		w.codes = append(w.codes, string(c))
	}
	return w
}

// policyFailure: one bundle carries evidence code ev (possibly "", a valid
// bundle), and the policy refuses it with code.
func policyFailure(code string, ev attest.Code) advWant {
	return advWant{status: policy.StatusVerificationFailure, codes: []string{"no-trusted-bundle", code}, evidence: []attest.Code{ev}}
}

// signatureLevel lists the codes of bundles whose Sigstore checks failed:
// such evidence must name no signer.
var signatureLevel = map[attest.Code]bool{
	attest.CodeBundleMalformed: true, attest.CodeBundleUnsupported: true, attest.CodeNotDSSE: true,
	attest.CodeTransparencyLog: true, attest.CodeTimestamp: true, attest.CodeCertificate: true,
	attest.CodeSCT: true, attest.CodeSignature: true, attest.CodeSigstore: true,
	attest.CodeStatementMalformed: true, attest.CodePackageDigestAbsent: true,
}

// faultServer serves what no honest channel does, on loopback. The first
// path segment picks the behaviour: "endless" streams a body of up to
// 100 MB until the client goes away, "status500" always answers 500,
// anything else is a 404. Requests are counted by first segment.
type faultServer struct {
	url     string
	mu      sync.Mutex
	hits    map[string]int
	streams chan int64 // the bytes each "endless" response managed to send
}

const endlessSize = 100 << 20

func newFaultServer(t *testing.T) *faultServer {
	f := &faultServer{hits: map[string]int{}, streams: make(chan int64, 8)}
	chunk := bytes.Repeat([]byte(`{"a":[1,2,3]},`), 64<<10/14)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		f.mu.Lock()
		f.hits[seg]++
		f.mu.Unlock()
		switch seg {
		case "endless":
			var sent int64
			defer func() { f.streams <- sent }()
			n, err := w.Write([]byte("["))
			sent += int64(n)
			for err == nil && sent < endlessSize {
				n, err = w.Write(chunk)
				sent += int64(n)
			}
		case "status500":
			http.Error(w, "internal error", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *faultServer) requests(seg string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[seg]
}

// advEnv holds the two worlds: a virtual channel signed by ss, and a
// channel serving the real public-good-signed package under its real
// channel name.
type advEnv struct {
	ss, other *condasigstest.Sigstore
	ch        *condasigstest.Channel
	url       string
	real      *condasigstest.Channel
	realURL   string
	fault     *faultServer
	fetcher   *fetch.Client

	mu        sync.Mutex
	verifiers map[string]*condasigs.Verifier
}

func newAdvEnv(t *testing.T) *advEnv {
	a := &advEnv{
		ss: condasigstest.NewSigstore(t), other: condasigstest.NewSigstore(t),
		ch: condasigstest.NewChannel(t, "linux-64"), real: condasigstest.NewChannel(t, fixtures.Subdir),
		fault: newFaultServer(t), verifiers: map[string]*condasigs.Verifier{},
		// One retry, millisecond waits: a 5xx costs two requests and no time.
		fetcher: fetch.New(fetch.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, Timeout: 5 * time.Second}),
	}
	a.url, a.realURL = a.ch.Serve(t), a.real.Serve(t)
	return a
}

func (a *advEnv) verifier(t *testing.T, w world, mode policy.Mode) *condasigs.Verifier {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	key := fmt.Sprint(w, mode)
	if v, ok := a.verifiers[key]; ok {
		return v
	}
	opts := condasigs.Options{Fetcher: a.fetcher,
		Trust: trustroot.NewStatic(a.ss.TrustedMaterial(), "virtual"), Policy: policy.Policy{Require: mode, Identities: trusted}}
	if w == realWorld {
		opts.Trust = trustroot.NewStatic(fixtures.TrustedRoot(fixtures.PublicGoodRootFile), "public-good")
		opts.Policy.Identities = []policy.Identity{{SAN: fixtures.SAN, Issuer: fixtures.Issuer}}
	}
	v, err := condasigs.New(opts)
	require.NoError(t, err)
	a.verifiers[key] = v
	return v
}

// data is the bytes of the virtual package filename.
func data(filename string) []byte { return []byte("adversarial corpus package " + filename + "\n") }

// sign signs a statement as the trusted demo identity.
func (a *advEnv) sign(t *testing.T, statement []byte) []byte {
	t.Helper()
	return a.ss.Bundle(t, san, issuer, statement)
}

// good is a valid, trusted bundle for filename.
func (a *advEnv) good(t *testing.T, filename string) []byte {
	t.Helper()
	return a.sign(t, condasigstest.Statement(filename, sha(data(filename)), a.url))
}

// add publishes filename on the virtual channel with these bundles.
func (a *advEnv) add(t *testing.T, filename string, bundles ...[]byte) condasigs.Package {
	t.Helper()
	return a.addPackage(t, condasigstest.Package{Filename: filename, Bundles: bundles})
}

// addSidecar publishes filename with a raw sidecar.
func (a *advEnv) addSidecar(t *testing.T, filename string, sidecar []byte) condasigs.Package {
	t.Helper()
	return a.addPackage(t, condasigstest.Package{Filename: filename, Sidecar: sidecar})
}

func (a *advEnv) addPackage(t *testing.T, p condasigstest.Package) condasigs.Package {
	t.Helper()
	if p.Data == nil {
		p.Data = data(p.Filename)
	}
	rec := a.ch.Add(t, p)
	return condasigs.Package{URL: a.url + "/linux-64/" + p.Filename, Record: rec}
}

// statement is a CEP 27 statement with the given JSON members after _type,
// for the rules the typed condasigstest.Statement cannot break.
func statement(members ...string) []byte {
	return []byte(`{"_type":"` + intoto.StatementTypeUri + `",` + strings.Join(members, ",") + `}`)
}

func subjects(entries ...string) string { return `"subject":[` + strings.Join(entries, ",") + `]` }

func subject(name, algo, digest string) string {
	return `{"name":"` + name + `","digest":{"` + algo + `":"` + digest + `"}}`
}

const publishType = `"predicateType":"` + attest.PublishPredicateType + `"`

// realPackage publishes the real package under filename with sidecar, on a
// loopback copy of its channel; Package.Channel names the real channel.
func (a *advEnv) realPackage(t *testing.T, filename string, pkgData, sidecar []byte) condasigs.Package {
	t.Helper()
	rec := a.real.Add(t, condasigstest.Package{Filename: filename, Data: pkgData, Sidecar: sidecar})
	return condasigs.Package{URL: a.realURL + "/" + fixtures.Subdir + "/" + filename, Channel: fixtures.Channel, Record: rec}
}

// realBundle publishes the real package with one bundle.
func (a *advEnv) realBundle(t *testing.T, bundle []byte) condasigs.Package {
	t.Helper()
	return a.realPackage(t, fixtures.Filename, fixtures.Read(fixtures.PackageFile), []byte("["+string(bundle)+"]"))
}

// realMutated publishes the real package with its real bundle changed by fn.
func (a *advEnv) realMutated(t *testing.T, fn func(m map[string]any)) condasigs.Package {
	t.Helper()
	return a.realBundle(t, testchannel.MutateJSON(t, fixtures.Read(fixtures.BundleFile), fn))
}

// noRequest is a package of the fault server whose record advertises
// digest: the digest must be refused before any URL is built from it.
func (a *advEnv) noRequest(filename, digest string) condasigs.Package {
	return condasigs.Package{URL: a.fault.url + "/nodigest/linux-64/" + filename,
		Record: fetch.Record{Filename: filename, Name: strings.SplitN(filename, "-", 2)[0], Version: "1.0", Build: "0",
			SHA256: sha(data(filename)), AttestationsSHA256: digest}}
}

type advCase struct {
	name  string
	world world
	// build publishes the case's package; filename is unique to the case
	// (real-world cases mostly use the fixture's own).
	build func(t *testing.T, filename string) condasigs.Package
	want  advWant
	// check, if set, makes extra assertions after both verifications.
	check func(t *testing.T, filename string, rep *condasigs.Report)
}

// TestAdversarialCorpus verifies hostile packages end to end through a
// Verifier, over loopback HTTP. Each case must fail under require: error
// with the exact status and codes, and under require: ignore give warn
// (retrieval and verification failures) or pass (unsigned only). None may
// pass or panic.
func TestAdversarialCorpus(t *testing.T) {
	a := newAdvEnv(t)
	ctx := context.Background()
	hex64 := sha([]byte("some sidecar"))
	realJSON := func() []byte { return fixtures.Read(fixtures.BundleFile) }
	realPkg := fixtures.Read(fixtures.PackageFile)

	// The controls: unmodified, both worlds verify.
	t.Run("control", func(t *testing.T) {
		for _, c := range []struct {
			w   world
			pkg condasigs.Package
		}{
			{virtualWorld, a.add(t, "control-1.0-0.conda", a.good(t, "control-1.0-0.conda"))},
			{realWorld, a.realBundle(t, realJSON())},
		} {
			rep, err := a.verifier(t, c.w, policy.ModeError).Verify(ctx, c.pkg)
			require.NoError(t, err)
			require.Equal(t, policy.Pass, rep.Outcome, "%+v", rep.Reasons)
			require.Equal(t, policy.StatusVerified, rep.Status)
		}
	})

	cases := []advCase{
		// The real public-good bundle, tampered with. Each flip changes one
		// bit of the decoded bytes.
		{name: "real: DSSE payload bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				env := testchannel.Object(t, m, "dsseEnvelope")
				env["payload"] = testchannel.FlipBase64(t, env["payload"].(string), 40)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: DSSE payload rewritten for another file", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				env := testchannel.Object(t, m, "dsseEnvelope")
				p, err := base64.StdEncoding.DecodeString(env["payload"].(string))
				require.NoError(t, err)
				p = bytes.ReplaceAll(p, []byte(fixtures.PackageSHA256), []byte(sha([]byte("malware"))))
				env["payload"] = base64.StdEncoding.EncodeToString(p)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: DSSE payload type changed", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				testchannel.Object(t, m, "dsseEnvelope")["payloadType"] = "application/json"
			})
		}, want: bundleFailure(attest.CodeSignature)},
		{name: "real: signature bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				sig := testchannel.Object(t, m, "dsseEnvelope")["signatures"].([]any)[0].(map[string]any)
				sig["sig"] = testchannel.FlipBase64(t, sig["sig"].(string), -3)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: certificate bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				c := testchannel.Object(t, m, "verificationMaterial", "certificate")
				c["rawBytes"] = testchannel.FlipBase64(t, c["rawBytes"].(string), 200)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: inclusion proof root hash bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				p := testchannel.Object(t, testchannel.TlogEntry(t, m, 0), "inclusionProof")
				p["rootHash"] = testchannel.FlipBase64(t, p["rootHash"].(string), 0)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: inclusion proof path hash bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				hashes := testchannel.Object(t, testchannel.TlogEntry(t, m, 0), "inclusionProof")["hashes"].([]any)
				hashes[3] = testchannel.FlipBase64(t, hashes[3].(string), 31)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: SET bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				p := testchannel.Object(t, testchannel.TlogEntry(t, m, 0), "inclusionPromise")
				p["signedEntryTimestamp"] = testchannel.FlipBase64(t, p["signedEntryTimestamp"].(string), -5)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: logged body bit flip", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				e := testchannel.TlogEntry(t, m, 0)
				e["canonicalizedBody"] = testchannel.FlipBase64(t, e["canonicalizedBody"].(string), 100)
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: integrated time moved", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) { testchannel.TlogEntry(t, m, 0)["integratedTime"] = "1756728840" })
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: log index changed", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) { testchannel.TlogEntry(t, m, 0)["logIndex"] = "456119072" })
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: declared entry kind changed", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				testchannel.Object(t, testchannel.TlogEntry(t, m, 0), "kindVersion")["kind"] = "intoto"
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: no tlog entry", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				testchannel.Object(t, m, "verificationMaterial")["tlogEntries"] = []any{}
			})
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: bundle v0.4 media type", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json" })
		}, want: bundleFailure(attest.CodeBundleUnsupported)},
		{name: "real: unknown media type", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) { m["mediaType"] = "application/json" })
		}, want: bundleFailure(attest.CodeBundleUnsupported)},
		{name: "real: message signature instead of DSSE", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) {
				delete(m, "dsseEnvelope")
				digest := sha256.Sum256(realPkg)
				m["messageSignature"] = map[string]any{
					"messageDigest": map[string]any{"algorithm": "SHA2_256", "digest": base64.StdEncoding.EncodeToString(digest[:])},
					"signature":     base64.StdEncoding.EncodeToString([]byte("signature")),
				}
			})
		}, want: bundleFailure(attest.CodeNotDSSE)},
		{name: "real: unknown top-level field", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realMutated(t, func(m map[string]any) { m["x-extra"] = true })
		}, want: bundleFailure(attest.CodeBundleMalformed)},
		{name: "real: duplicated dsseEnvelope key", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			// A forged envelope first, the genuine one after it: a parser
			// keeping the last would verify the genuine one and might
			// report from the forged one.
			forged := testchannel.MutateJSON(t, realJSON(), func(m map[string]any) {
				env := testchannel.Object(t, m, "dsseEnvelope")
				env["payload"] = testchannel.FlipBase64(t, env["payload"].(string), 40)
			})
			var fm map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(forged, &fm))
			env := fm["dsseEnvelope"]
			b := realJSON()
			dup := append([]byte(`{"dsseEnvelope":`+string(env)+`,`), bytes.TrimPrefix(bytes.TrimSpace(b), []byte("{"))...)
			return a.realBundle(t, dup)
		}, want: bundleFailure(attest.CodeBundleMalformed)},
		{name: "real: duplicated mediaType key, same value", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			b := bytes.TrimPrefix(bytes.TrimSpace(realJSON()), []byte("{"))
			return a.realBundle(t, append([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",`), b...))
		}, want: bundleFailure(attest.CodeBundleMalformed)},
		{name: "real: invalid UTF-8 in an unsigned string field", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			b := realJSON()
			i := bytes.Index(b, []byte(`"sig"`))
			require.Positive(t, i)
			b = append(append(b[:i:i], []byte("\"keyid\":\"k\xff\xfe\",")...), b[i:]...)
			return a.realBundle(t, b)
		}, want: bundleFailure(attest.CodeBundleMalformed)},
		{name: "real: bundle replayed under another filename", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realPackage(t, "signed-package-2.1.1-hb0f4dca_0.conda", realPkg, []byte("["+string(realJSON())+"]"))
		}, want: bundleFailure(attest.CodeSubjectName)},
		{name: "real: bundle over other package bytes", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realPackage(t, fixtures.Filename, []byte("malware with the real filename"), []byte("["+string(realJSON())+"]"))
		}, want: bundleFailure(attest.CodeSubjectDigest)},
		{name: "real: served as another channel's package", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			p := a.realBundle(t, realJSON())
			p.Channel = "https://prefix.dev/sigstore-example-evil"
			return p
		}, want: policyFailure("target-channel-mismatch", "")},
		{name: "real: staging Rekor v2 bundle under the public-good root", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			return a.realBundle(t, fixtures.Read(fixtures.StagingBundleFile))
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "real: record advertises a sidecar that was replaced", world: realWorld, build: func(t *testing.T, _ string) condasigs.Package {
			p := a.realBundle(t, realJSON())
			mutated := testchannel.MutateJSON(t, realJSON(), func(m map[string]any) {
				testchannel.Object(t, m, "dsseEnvelope")["payloadType"] = "text/plain"
			})
			tampered := []byte("[" + string(mutated) + "]")
			require.NoError(t, os.WriteFile(filepath.Join(a.real.Dir, a.real.Subdir, fixtures.Filename+".sigs."+p.Record.AttestationsSHA256), tampered, 0o644))
			return p
		}, want: retrievalFailure(fetch.KindHashMismatch)},

		// Statements signed by the trusted virtual identity that break one
		// CEP 27 rule each.
		{name: "two subjects", build: func(t *testing.T, fn string) condasigs.Package {
			d := sha(data(fn))
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", d), subject("other-1.0-0.conda", "sha256", d)), publishType)))
		}, want: bundleFailure(attest.CodeSubjectCount)},
		{name: "no subject", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(), publishType)))
		}, want: bundleFailure(attest.CodeSubjectCount)},
		{name: "subject with sha512 only", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha512", strings.Repeat("ab", 64))), publishType)))
		}, want: bundleFailure(attest.CodeSubjectDigest)},
		{name: "subject digest of other bytes", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, condasigstest.Statement(fn, sha([]byte("other bytes")), a.url)))
		}, want: bundleFailure(attest.CodeSubjectDigest)},
		{name: "valid bundle of another package replayed", build: func(t *testing.T, fn string) condasigs.Package {
			a.add(t, "victim-"+fn, a.good(t, "victim-"+fn))
			return a.add(t, fn, a.good(t, "victim-"+fn))
		}, want: bundleFailure(attest.CodeSubjectName)},
		{name: "statement type v0.1", build: func(t *testing.T, fn string) condasigs.Package {
			st := `{"_type":"https://in-toto.io/Statement/v0.1",` + subjects(subject(fn, "sha256", sha(data(fn)))) + `,` + publishType + `}`
			return a.add(t, fn, a.sign(t, []byte(st)))
		}, want: bundleFailure(attest.CodeStatementType)},
		{name: "wrong predicate type", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", sha(data(fn)))),
				`"predicateType":"https://slsa.dev/provenance/v1"`, `"predicate":{"targetChannel":"`+a.url+`"}`)))
		}, want: policyFailure("unknown-predicate", attest.CodePredicateType)},
		{name: "predicate not an object", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", sha(data(fn)))), publishType, `"predicate":"`+a.url+`"`)))
		}, want: bundleFailure(attest.CodeStatementMalformed)},
		{name: "predicate an array", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", sha(data(fn)))), publishType, `"predicate":[{"targetChannel":"`+a.url+`"}]`)))
		}, want: bundleFailure(attest.CodeStatementMalformed)},
		{name: "targetChannel with trailing slash", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, condasigstest.Statement(fn, sha(data(fn)), a.url+"/")))
		}, want: bundleFailure(attest.CodePredicateMalformed)},
		{name: "targetChannel with user information", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, condasigstest.Statement(fn, sha(data(fn)), strings.Replace(a.url, "://", "://evil@", 1))))
		}, want: bundleFailure(attest.CodePredicateMalformed)},
		{name: "targetChannel with a token segment", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, condasigstest.Statement(fn, sha(data(fn)), a.url+"/t/x")))
		}, want: bundleFailure(attest.CodePredicateMalformed)},
		{name: "targetChannel with a query", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, condasigstest.Statement(fn, sha(data(fn)), a.url+"?channel=other")))
		}, want: bundleFailure(attest.CodePredicateMalformed)},
		{name: "targetChannel not a string", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", sha(data(fn)))), publishType, `"predicate":{"targetChannel":["`+a.url+`"]}`)))
		}, want: bundleFailure(attest.CodePredicateMalformed)},
		{name: "targetChannel of another host", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, condasigstest.Statement(fn, sha(data(fn)), "https://evil.example.org/linux-64-channel")))
		}, want: policyFailure("target-channel-mismatch", "")},
		{name: "duplicated subject key in the statement", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject("evil-1.0-0.conda", "sha256", sha([]byte("evil")))),
				subjects(subject(fn, "sha256", sha(data(fn)))), publishType)))
		}, want: bundleFailure(attest.CodeStatementMalformed)},
		{name: "duplicated targetChannel key in the predicate", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", sha(data(fn)))), publishType,
				`"predicate":{"targetChannel":"https://evil.example.org/x","targetChannel":"`+a.url+`"}`)))
		}, want: bundleFailure(attest.CodeStatementMalformed)},
		{name: "invalid UTF-8 in the statement", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, statement(subjects(subject(fn, "sha256", sha(data(fn)))), publishType,
				`"predicate":{"targetChannel":"`+a.url+`","note":"`+"\xff\xfe"+`"}`)))
		}, want: bundleFailure(attest.CodeStatementMalformed)},
		{name: "payload not JSON", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.sign(t, []byte("not json")))
		}, want: bundleFailure(attest.CodeStatementMalformed)},
		{name: "untrusted identity", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.ss.Bundle(t, "https://github.com/demo-evil/demo/.github/workflows/release.yml@refs/tags/v1.0", issuer,
				condasigstest.Statement(fn, sha(data(fn)), a.url)))
		}, want: policyFailure("untrusted-identity", "")},

		// Sigstore-level failures of virtual bundles.
		{name: "certificate from an untrusted CA", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.other.Bundle(t, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url)))
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "cross-instance: trusted certificate, foreign log", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.ss.BundleLoggedBy(t, a.other, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url)))
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "cross-instance: foreign certificate, trusted log", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.other.BundleLoggedBy(t, a.ss, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url)))
		}, want: bundleFailure(attest.CodeCertificate)},
		{name: "certificate expired at signing time", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.ss.BundleAt(t, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url), time.Now().Add(20*time.Minute)))
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "certificate not yet valid at signing time", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.ss.BundleAt(t, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url), time.Now().Add(-10*time.Minute)))
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "no tlog entry", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, testchannel.MutateJSON(t, a.good(t, fn), func(m map[string]any) {
				testchannel.Object(t, m, "verificationMaterial")["tlogEntries"] = []any{}
			}))
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "tlog entry for another body", build: func(t *testing.T, fn string) condasigs.Package {
			mine, _ := testchannel.SwapTlogEntries(t, a.good(t, fn), a.good(t, "other-"+fn))
			return a.add(t, fn, mine)
		}, want: bundleFailure(attest.CodeTransparencyLog)},
		{name: "a bundle with a media type only", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
		}, want: bundleFailure(attest.CodeBundleMalformed)},
		{name: "two bad bundles", build: func(t *testing.T, fn string) condasigs.Package {
			return a.add(t, fn, a.other.Bundle(t, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url)), a.good(t, "else-"+fn))
		}, want: bundleFailure(attest.CodeTransparencyLog, attest.CodeSubjectName)},
		{name: "record without sha256, no artifact bytes", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addPackage(t, condasigstest.Package{Filename: fn, OmitSHA256: true, Bundles: [][]byte{a.good(t, fn)}})
		}, want: bundleFailure(attest.CodePackageDigestAbsent), check: func(t *testing.T, _ string, rep *condasigs.Report) {
			assert.Empty(t, rep.PackageSHA256)
		}},

		{name: "record sha256 not a digest", build: func(t *testing.T, fn string) condasigs.Package {
			p := a.add(t, fn, a.good(t, fn))
			p.Record.SHA256 = "not-a-sha256-" + sha(data(fn))[13:]
			return p
		}, want: bundleFailure(attest.CodePackageDigestAbsent)},

		// Sidecars that are not a JSON array of objects.
		{name: "sidecar: empty array", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte("[]"))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: null", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte("null"))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: empty file", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte{})
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: a bare bundle instead of an array", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, a.good(t, fn))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: array of a string", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte(`["`+base64.StdEncoding.EncodeToString(a.good(t, fn))+`"]`))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: trailing data after the array", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte("["+string(a.good(t, fn))+`] {"more":1}`))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: two arrays", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte("["+string(a.good(t, fn))+"]["+string(a.good(t, fn))+"]"))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: 100000 nested arrays", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte(strings.Repeat("[", 100000)+strings.Repeat("]", 100000)))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: 100000 nested arrays inside a bundle", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte(`[{"mediaType":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}]`))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: unterminated nesting", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte(strings.Repeat("[", 100000)))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: invalid UTF-8 outside strings", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte("[\xff\xfe"+string(a.good(t, fn))+"]"))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: UTF-8 byte order mark", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addSidecar(t, fn, []byte("\xef\xbb\xbf["+string(a.good(t, fn))+"]"))
		}, want: retrievalFailure(fetch.KindMalformed)},
		{name: "sidecar: more than attest.MaxBundles bundles", build: func(t *testing.T, fn string) condasigs.Package {
			b := a.good(t, fn)
			many := make([][]byte, attest.MaxBundles+1)
			for i := range many {
				many[i] = b
			}
			return a.add(t, fn, many...)
		}, want: retrievalFailure(fetch.KindMalformed), check: func(t *testing.T, _ string, rep *condasigs.Report) {
			assert.Contains(t, rep.Reasons[0].Message, "more than the limit")
		}},
		{name: "sidecar: 100 MB, streamed", build: func(t *testing.T, fn string) condasigs.Package {
			return condasigs.Package{URL: a.fault.url + "/endless/linux-64/" + fn,
				Record: fetch.Record{Filename: fn, SHA256: sha(data(fn)), AttestationsSHA256: hex64}}
		}, want: retrievalFailure(fetch.KindTooLarge), check: func(t *testing.T, _ string, _ *condasigs.Report) {
			for range 2 { // one response per verification
				select {
				case sent := <-a.fault.streams:
					assert.Less(t, sent, int64(32<<20), "the client must stop reading at the 4 MiB cap, not drain 100 MB")
					t.Logf("the server sent %d bytes before the client went away", sent)
				case <-time.After(5 * time.Second):
					t.Fatal("the endless response is still being sent")
				}
			}
		}},

		// attestations_sha256 values that must never become a URL.
		{name: "digest: uppercase", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, strings.ToUpper(hex64))
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: 63 characters", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, hex64[:63])
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: 65 characters", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, hex64+"0")
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: path traversal", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, "../../../repodata.json"+hex64[:42])
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: with '?'", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, hex64[:32]+"?"+hex64[33:])
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: with '#'", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, hex64[:32]+"#"+hex64[33:])
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: with '%2F'", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, hex64[:30]+"%2F"+hex64[33:])
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: with a NUL byte", build: func(t *testing.T, fn string) condasigs.Package {
			return a.noRequest(fn, hex64[:63]+"\x00")
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},
		{name: "digest: empty value in repodata", build: func(t *testing.T, fn string) condasigs.Package {
			doc := `{"packages.conda":{"` + fn + `":{"name":"` + strings.SplitN(fn, "-", 2)[0] + `","version":"1.0","build":"0","sha256":"` + sha(data(fn)) + `","attestations_sha256":""}}}`
			rec, err := findRecord(strings.NewReader(doc), fn)
			require.NoError(t, err)
			return condasigs.Package{URL: a.fault.url + "/nodigest/linux-64/" + fn, Record: rec}
		}, want: retrievalFailure(fetch.KindInvalidDigest), check: a.noRequestMade},

		// Retrieval.
		{name: "sidecar hash mismatch", build: func(t *testing.T, fn string) condasigs.Package {
			p := a.add(t, fn, a.good(t, fn))
			// The sidecar replaced on the server, repodata unchanged.
			evil := []byte("[" + string(a.other.Bundle(t, san, issuer, condasigstest.Statement(fn, sha(data(fn)), a.url))) + "]")
			require.NoError(t, os.WriteFile(filepath.Join(a.ch.Dir, a.ch.Subdir, fn+".sigs."+p.Record.AttestationsSHA256), evil, 0o644))
			return p
		}, want: retrievalFailure(fetch.KindHashMismatch)},
		{name: "sidecar 404", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addPackage(t, condasigstest.Package{Filename: fn, Bundles: [][]byte{a.good(t, fn)}, NoSidecarFile: true})
		}, want: retrievalFailure(fetch.KindNotFound)},
		{name: "sidecar 500 after retries", build: func(t *testing.T, fn string) condasigs.Package {
			return condasigs.Package{URL: a.fault.url + "/status500/linux-64/" + fn,
				Record: fetch.Record{Filename: fn, SHA256: sha(data(fn)), AttestationsSHA256: hex64}}
		}, want: retrievalFailure(fetch.KindHTTPStatus), check: func(t *testing.T, _ string, _ *condasigs.Report) {
			assert.Equal(t, 4, a.fault.requests("status500"), "two verifications, each one attempt and one retry")
		}},

		{name: "unsigned", build: func(t *testing.T, fn string) condasigs.Package {
			return a.addPackage(t, condasigstest.Package{Filename: fn, Unsigned: true})
		}, want: advWant{status: policy.StatusUnsigned, codes: []string{"unsigned"}}, check: func(t *testing.T, fn string, _ *condasigs.Report) {
			assert.Zero(t, a.ch.Requests("/linux-64/"+fn+".sigs"))
		}},
	}
	require.GreaterOrEqual(t, len(cases), 40)

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			filename := fmt.Sprintf("adv%02d-1.0-0.conda", i)
			pkg := c.build(t, filename)
			verify := func(mode policy.Mode) *condasigs.Report {
				t.Helper()
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Verify panicked (require %s): %v", mode, r)
					}
				}()
				rep, err := a.verifier(t, c.world, mode).Verify(ctx, pkg)
				require.NoError(t, err, "a hostile package is a verdict, not a Go error")
				require.NotNil(t, rep)
				return rep
			}

			rep := verify(policy.ModeError)
			assert.Equal(t, policy.Fail, rep.Outcome, "%+v", rep.Reasons)
			assert.Equal(t, c.want.status, rep.Status)
			assert.Equal(t, c.want.codes, reasonCodes(rep), "%+v", rep.Reasons)
			assert.Nil(t, rep.Signer)
			checkEvidence(t, c.want.evidence, rep.Bundles)
			for _, r := range rep.Reasons {
				sev := policy.SeverityError
				if r.Code == "unknown-predicate" {
					sev = policy.SeverityInfo // unknown_predicate: ignore, the default
				}
				assert.Equal(t, sev, r.Severity, "%s", r.Code)
				assert.NotEmpty(t, r.Message)
				t.Logf("%s: %s", r.Code, r.Message)
			}

			lenient := verify(policy.ModeIgnore)
			switch c.want.status {
			case policy.StatusUnsigned:
				assert.Equal(t, policy.Pass, lenient.Outcome, "require: ignore accepts a package without attestations")
				assert.Empty(t, lenient.Reasons)
			default:
				assert.Equal(t, policy.Warn, lenient.Outcome, "require: ignore never passes a failure: %+v", lenient.Reasons)
				assert.Equal(t, c.want.codes, reasonCodes(lenient))
			}
			assert.Equal(t, c.want.status, lenient.Status)
			assert.Nil(t, lenient.Signer)

			if c.check != nil {
				c.check(t, filename, rep)
			}
		})
	}
}

// checkEvidence compares each bundle's evidence with its expected code.
// A bundle whose Sigstore checks failed must name no signer.
func checkEvidence(t *testing.T, want []attest.Code, got []attest.Evidence) {
	t.Helper()
	if want == nil {
		assert.Empty(t, got, "no bundle may be reported")
		return
	}
	require.Len(t, got, len(want))
	for i, ev := range got {
		assert.Equal(t, i, ev.Index)
		assert.Equal(t, want[i], ev.Code, "bundle %d: %s", i, ev.Message)
		assert.Equal(t, want[i] == "", ev.Verified, "bundle %d", i)
		if want[i] == "" {
			continue
		}
		assert.NotEmpty(t, ev.Message, "bundle %d", i)
		if signatureLevel[want[i]] {
			assert.False(t, ev.SignatureVerified, "bundle %d", i)
			assert.Empty(t, ev.SAN, "bundle %d: no signer for a bundle whose Sigstore checks failed", i)
			assert.Empty(t, ev.Issuer, "bundle %d", i)
			assert.Nil(t, ev.Claims, "bundle %d", i)
			assert.Empty(t, ev.LogEntries, "bundle %d: no log entry is verified", i)
		} else {
			assert.True(t, ev.SignatureVerified, "bundle %d: a statement-level failure of a valid signature", i)
		}
	}
}

// noRequestMade: an invalid digest is refused before any request.
func (a *advEnv) noRequestMade(t *testing.T, _ string, rep *condasigs.Report) {
	t.Helper()
	assert.Zero(t, a.fault.requests("nodigest"), "no URL may be built from an invalid digest")
	assert.Empty(t, rep.SidecarURL)
}

// findRecord scans a repodata document for the record of one file.
func findRecord(r io.Reader, filename string) (fetch.Record, error) {
	found, err := fetch.FindRecords(r, []string{filename})
	if err != nil {
		return fetch.Record{}, err
	}
	return found[filename].Record, found[filename].Err
}
