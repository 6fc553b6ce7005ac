package condasigstest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	identity = "https://github.com/demo/demo/.github/workflows/release.yml@refs/heads/main"
	issuer   = "https://token.actions.githubusercontent.com"
	filename = "demo-1.0-0.conda"
	channel  = "https://conda.example.test/demo"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fileURL is the channel's file:// URL, which Channel.URL gives before
// Serve.
func fileURL(ch *condasigstest.Channel) string {
	return (&url.URL{Scheme: "file", Path: ch.Dir}).String()
}

// fileSHA is the sha256 of an added package's bytes, read from its file
// (even when its record omits it).
func fileSHA(t *testing.T, ch *condasigstest.Channel, filename string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ch.Dir, ch.Subdir, filename))
	require.NoError(t, err)
	return sha(data)
}

func verify(t *testing.T, tm root.TrustedMaterial, sidecar []byte, s attest.Subject) attest.Evidence {
	t.Helper()
	v, err := attest.NewVerifier(tm)
	require.NoError(t, err)
	evs, err := v.VerifySidecar(context.Background(), sidecar, s)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	return evs[0]
}

func TestBundleVerifies(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	digest := sha([]byte("package bytes"))
	bundle := ss.Bundle(t, identity, issuer, condasigstest.Statement(filename, digest, channel))

	v, err := attest.NewVerifier(ss.TrustedMaterial())
	require.NoError(t, err)
	assert.Equal(t, attest.Thresholds{TransparencyLog: 1, ObserverTimestamps: 1}, v.Thresholds(), "no SCT required")

	ev := verify(t, ss.TrustedMaterial(), []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest, Channel: channel + "/"})
	require.True(t, ev.Verified, "%s: %s", ev.Code, ev.Message)
	assert.Equal(t, "application/vnd.dev.sigstore.bundle.v0.3+json", ev.MediaType)
	assert.Equal(t, identity, ev.SAN)
	assert.Equal(t, issuer, ev.Issuer)
	assert.Equal(t, attest.ChannelMatched, ev.ChannelMatch)
	assert.Equal(t, channel, ev.TargetChannel)
	require.Len(t, ev.LogEntries, 1)
	assert.Equal(t, "https://rekor.localhost", ev.LogEntries[0].LogURL)
	types := []string{}
	for _, ts := range ev.Timestamps {
		types = append(types, ts.Type)
	}
	assert.ElementsMatch(t, []string{"Tlog", "TimestampAuthority"}, types)
}

func TestBundleWithoutPredicate(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	digest := sha([]byte("x"))
	bundle := ss.Bundle(t, identity, issuer, condasigstest.Statement(filename, digest, ""))
	ev := verify(t, ss.TrustedMaterial(), []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest, Channel: channel})
	require.True(t, ev.Verified, "%s: %s", ev.Code, ev.Message)
	assert.Equal(t, attest.ChannelAbsent, ev.ChannelMatch)
}

// The integrated time must fall within the leaf certificate's ten minutes
// of validity, which start when the bundle is made.
func TestBundleAtOutsideCertificateValidity(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	digest := sha([]byte("x"))
	bundle := ss.BundleAt(t, identity, issuer, condasigstest.Statement(filename, digest, channel), time.Now().Add(20*time.Minute))
	ev := verify(t, ss.TrustedMaterial(), []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest})
	assert.False(t, ev.Verified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code, ev.Message)
	assert.Contains(t, ev.Message, "integrated time outside certificate validity")
}

// A bundle of another Sigstore fails at the first stage sigstore-go checks,
// the transparency log: its entry names a log the trusted material does not
// know, so it is skipped and 0 < 1 entries verify.
func TestForeignSigstoreDoesNotVerify(t *testing.T) {
	trusted, foreign := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	digest := sha([]byte("x"))
	bundle := foreign.Bundle(t, identity, issuer, condasigstest.Statement(filename, digest, channel))
	ev := verify(t, trusted.TrustedMaterial(), []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest, Channel: channel})
	assert.False(t, ev.Verified)
	assert.False(t, ev.SignatureVerified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code)
	assert.Contains(t, ev.Message, "not enough verified log entries from transparency log: 0 < 1")
}

// foreignCA trusts a Sigstore's log and TSA but another one's Fulcio CA.
type foreignCA struct {
	root.TrustedMaterial
	ca root.TrustedMaterial
}

func (f foreignCA) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return f.ca.FulcioCertificateAuthorities()
}

// With the log and the TSA trusted, only the certificate chain fails.
func TestUntrustedCertificateAuthority(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	digest := sha([]byte("x"))
	bundle := ss.Bundle(t, identity, issuer, condasigstest.Statement(filename, digest, channel))
	tm := foreignCA{TrustedMaterial: ss.TrustedMaterial(), ca: condasigstest.NewSigstore(t).TrustedMaterial()}
	ev := verify(t, tm, []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest, Channel: channel})
	assert.False(t, ev.Verified)
	assert.Equal(t, attest.CodeCertificate, ev.Code, ev.Message)
}

// foreignTSA trusts a Sigstore's CA and log but another one's TSA.
type foreignTSA struct {
	root.TrustedMaterial
	tsa root.TrustedMaterial
}

func (f foreignTSA) TimestampingAuthorities() []root.TimestampingAuthority {
	return f.tsa.TimestampingAuthorities()
}

// sigstore-go drops an RFC 3161 timestamp it cannot verify without failing:
// the log's integrated time alone meets the observer-timestamp threshold.
// (The same happens to a bundle made over 5 minutes after NewSigstore, once
// the virtual TSA's certificate has expired.)
func TestUntrustedTimestampIsDropped(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	digest := sha([]byte("x"))
	bundle := ss.Bundle(t, identity, issuer, condasigstest.Statement(filename, digest, channel))
	tm := foreignTSA{TrustedMaterial: ss.TrustedMaterial(), tsa: condasigstest.NewSigstore(t).TrustedMaterial()}
	ev := verify(t, tm, []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest, Channel: channel})
	require.True(t, ev.Verified, "%s: %s", ev.Code, ev.Message)
	require.Len(t, ev.Timestamps, 1)
	assert.Equal(t, "Tlog", ev.Timestamps[0].Type)
}

// Without a targetChannel, a statement has no predicate. (The sidecar
// helper is tested in statement_internal_test.go.)
func TestStatementWithoutPredicate(t *testing.T) {
	var st map[string]any
	require.NoError(t, json.Unmarshal(condasigstest.Statement(filename, "ab", ""), &st))
	assert.NotContains(t, st, "predicate")
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func TestServedChannel(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	base := ch.Serve(t)
	assert.Equal(t, base, ch.URL())
	rec := ch.Add(t, condasigstest.Package{Filename: filename, Signer: ss, Identity: identity, Issuer: issuer})
	assert.Equal(t, fetch.Record{Filename: filename, Name: "demo", Version: "1.0", Build: "0", Subdir: "linux-64",
		Size: rec.Size, SHA256: fileSHA(t, ch, filename), MD5: rec.MD5, AttestationsSHA256: rec.AttestationsSHA256}, rec)

	code, repodata := get(t, base+"/linux-64/repodata.json")
	require.Equal(t, http.StatusOK, code)
	got, err := fetch.FindRecords(bytes.NewReader(repodata), []string{filename})
	require.NoError(t, err)
	require.NoError(t, got[filename].Err)
	assert.Equal(t, rec, got[filename].Record)

	code, pkg := get(t, base+"/linux-64/"+filename)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, rec.SHA256, sha(pkg))
	assert.Equal(t, int64(len(pkg)), rec.Size)

	code, side := get(t, base+"/linux-64/"+filename+".sigs."+rec.AttestationsSHA256+"?token=secret")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, rec.AttestationsSHA256, sha(side))
	code, mutable := get(t, base+"/t/tk-123/linux-64/"+filename+".sigs")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, side, mutable)

	ev := verify(t, ss.TrustedMaterial(), side, attest.Subject{Filename: filename, SHA256: sha(pkg), Channel: base})
	require.True(t, ev.Verified, "%s: %s", ev.Code, ev.Message)
	assert.Equal(t, attest.ChannelMatched, ev.ChannelMatch)

	code, _ = get(t, base+"/linux-64/missing-1.0-0.conda")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, 1, ch.Requests("/linux-64/repodata.json"))
	assert.Equal(t, 1, ch.Requests("/linux-64/"+filename))
	assert.Equal(t, 1, ch.Requests("/linux-64/"+filename+".sigs."+rec.AttestationsSHA256))
	assert.Equal(t, 1, ch.Requests("/linux-64/"+filename+".sigs"))
	assert.Equal(t, 1, ch.Requests("/linux-64/missing-1.0-0.conda"))
	assert.Equal(t, 0, ch.Requests("/noarch/repodata.json"))
	get(t, base+"/linux-64/repodata.json")
	assert.Equal(t, 2, ch.Requests("/linux-64/repodata.json"))
}

func TestPackageVariants(t *testing.T) {
	ch := condasigstest.NewChannel(t, "noarch")
	assert.Equal(t, fileURL(ch), ch.URL())
	base := ch.Serve(t)
	wrong := sha([]byte("not the sidecar"))
	unsigned := ch.Add(t, condasigstest.Package{Filename: "plain-2.0-py_3.tar.bz2", Unsigned: true})
	garbage := ch.Add(t, condasigstest.Package{Filename: "garbage-1-0.conda", Sidecar: []byte("not json")})
	empty := ch.Add(t, condasigstest.Package{Filename: "empty-1-0.conda", Bundles: [][]byte{}})
	advertised := ch.Add(t, condasigstest.Package{Filename: "wrong-1-0.conda", Bundles: [][]byte{[]byte(`{}`)}, AdvertisedSHA256: wrong})
	missing := ch.Add(t, condasigstest.Package{Filename: "gone-1-0.conda", Bundles: [][]byte{[]byte(`{}`)}, NoSidecarFile: true})
	nosha := ch.Add(t, condasigstest.Package{Filename: "nosha-1-0.conda", Unsigned: true, OmitSHA256: true, Data: []byte("x")})

	assert.Equal(t, fetch.Record{Filename: "plain-2.0-py_3.tar.bz2", Name: "plain", Version: "2.0", Build: "py_3",
		BuildNumber: 3, Subdir: "noarch", Size: unsigned.Size, SHA256: unsigned.SHA256, MD5: unsigned.MD5}, unsigned)
	assert.False(t, unsigned.HasAttestations())
	assert.Equal(t, sha([]byte("not json")), garbage.AttestationsSHA256)
	assert.Equal(t, sha([]byte("[]")), empty.AttestationsSHA256)
	assert.Equal(t, wrong, advertised.AttestationsSHA256)
	assert.Empty(t, nosha.SHA256)
	assert.Equal(t, sha([]byte("x")), fileSHA(t, ch, "nosha-1-0.conda"))
	assert.NoFileExists(t, filepath.Join(ch.Dir, ch.Subdir, "never-added-1-0.conda"))

	_, repodata := get(t, base+"/noarch/repodata.json")
	var doc struct {
		Packages      map[string]map[string]any `json:"packages"`
		PackagesConda map[string]map[string]any `json:"packages.conda"`
	}
	require.NoError(t, json.Unmarshal(repodata, &doc))
	assert.Len(t, doc.Packages, 1)
	assert.Len(t, doc.PackagesConda, 5)
	assert.NotContains(t, doc.Packages["plain-2.0-py_3.tar.bz2"], "attestations_sha256")
	assert.NotContains(t, doc.PackagesConda["nosha-1-0.conda"], "sha256")

	code, _ := get(t, base+"/noarch/plain-2.0-py_3.tar.bz2.sigs")
	assert.Equal(t, http.StatusNotFound, code, "unsigned: no mutable sidecar")
	code, _ = get(t, base+"/noarch/wrong-1-0.conda.sigs."+wrong)
	assert.Equal(t, http.StatusNotFound, code, "stored under its true hash only")
	code, _ = get(t, base+"/noarch/gone-1-0.conda.sigs."+missing.AttestationsSHA256)
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = get(t, base+"/noarch/gone-1-0.conda.sigs")
	assert.Equal(t, http.StatusOK, code, "the mutable file is still there")
	code, body := get(t, base+"/noarch/garbage-1-0.conda.sigs."+garbage.AttestationsSHA256)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "not json", string(body))
}

func TestConcurrentAdd(t *testing.T) {
	ch := condasigstest.NewChannel(t, "linux-64")
	var wg sync.WaitGroup
	for _, name := range []string{"a-1-0.conda", "b-1-0.conda", "c-1-0.conda", "d-1-0.conda"} {
		wg.Go(func() { ch.Add(t, condasigstest.Package{Filename: name, Unsigned: true}) })
	}
	wg.Wait()
	_, repodata := get(t, ch.Serve(t)+"/linux-64/repodata.json")
	n := 0
	require.NoError(t, fetch.ScanRepodata(bytes.NewReader(repodata), func(fetch.Record) bool { n++; return true }))
	assert.Equal(t, 4, n)
}

func TestTrustedRootJSONRoundTrip(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	tr, err := root.NewTrustedRootFromJSON(ss.TrustedRootJSON(t))
	require.NoError(t, err)
	digest := sha([]byte("x"))
	bundle := ss.Bundle(t, identity, issuer, condasigstest.Statement(filename, digest, channel))
	ev := verify(t, tr, []byte("["+string(bundle)+"]"), attest.Subject{Filename: filename, SHA256: digest, Channel: channel})
	assert.True(t, ev.Verified, "%s: %s", ev.Code, ev.Message)
}

// Sigstore wraps sigstore-go's VirtualSigstore: none of that test type's
// methods or fields is part of this package's API.
func TestSigstoreMethods(t *testing.T) {
	typ := reflect.TypeFor[*condasigstest.Sigstore]()
	var names []string
	for i := range typ.NumMethod() {
		names = append(names, typ.Method(i).Name)
	}
	assert.Equal(t, []string{"Bundle", "BundleAt", "BundleLoggedBy", "TrustedMaterial", "TrustedRootJSON"}, names)
	for _, f := range reflect.VisibleFields(typ.Elem()) {
		assert.False(t, f.IsExported(), "exported field %s", f.Name)
	}
}
