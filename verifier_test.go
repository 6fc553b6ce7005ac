package condasigs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	san    = "https://github.com/demo/demo/.github/workflows/release.yml@refs/tags/v1.0"
	issuer = "https://token.actions.githubusercontent.com"
)

var trusted = []policy.Identity{{SAN: "https://github.com/demo/*", Issuer: issuer}}

type env struct {
	ss      *condasigstest.Sigstore
	ch      *condasigstest.Channel
	url     string
	fetcher *fetch.Client
	// rootJSON is ss as a trusted_root.json, made once: the virtual
	// Sigstore's validity periods start at the time of the call.
	rootJSON []byte
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{ss: condasigstest.NewSigstore(t), ch: condasigstest.NewChannel(t, "linux-64")}
	e.url = e.ch.Serve(t)
	e.fetcher = fetch.New(fetch.Options{RetryMax: -1})
	return e
}

func (e *env) verifier(t *testing.T, p policy.Policy) *condasigs.Verifier {
	t.Helper()
	if p.Identities == nil {
		p.Identities = trusted
	}
	v, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual"), Policy: p, Fetcher: e.fetcher})
	require.NoError(t, err)
	return v
}

func (e *env) pkg(rec fetch.Record) condasigs.Package {
	return condasigs.Package{URL: e.pkgURL(rec.Filename), Record: rec}
}

// pkgURL is the URL of filename on the served channel, added or not.
func (e *env) pkgURL(filename string) string { return e.url + "/linux-64/" + filename }

func (e *env) signed(t *testing.T, filename, signer string) fetch.Record {
	return e.ch.Add(t, condasigstest.Package{Filename: filename, Signer: e.ss, Identity: signer, Issuer: issuer, TargetChannel: e.url})
}

func reasonCodes(r *condasigs.Report) []string {
	var out []string
	for _, x := range r.Reasons {
		out = append(out, string(x.Code))
	}
	return out
}

func TestVerifySigned(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "demo-1.0-0.conda", san)
	rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "%+v", rep.Reasons)
	assert.Equal(t, policy.StatusVerified, rep.Status)
	require.NotNil(t, rep.Signer)
	assert.Equal(t, san, rep.Signer.SAN)
	assert.Equal(t, trusted[0], rep.Signer.Matched)
	require.Len(t, rep.Bundles, 1)
	assert.True(t, rep.Bundles[0].Verified)
	assert.Equal(t, e.url, rep.Channel)
	assert.Contains(t, rep.SidecarURL, ".sigs."+rec.AttestationsSHA256)
	assert.Equal(t, rec.SHA256, rep.PackageSHA256)
	assert.Equal(t, "static", rep.TrustRoot.Kind)
	assert.Equal(t, 1, e.ch.Requests("/linux-64/demo-1.0-0.conda.sigs."+rec.AttestationsSHA256))
}

// TestRequireModes runs the three require modes against each kind of
// failure, end to end over loopback HTTP.
func TestRequireModes(t *testing.T) {
	e := newEnv(t)
	other := condasigstest.NewSigstore(t)
	recs := map[string]fetch.Record{
		"missing":   e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true}),
		"not found": e.ch.Add(t, condasigstest.Package{Filename: "nosidecar-1.0-0.conda", Bundles: [][]byte{[]byte("{}")}, NoSidecarFile: true}),
		"garbage":   e.ch.Add(t, condasigstest.Package{Filename: "garbage-1.0-0.conda", Sidecar: []byte("<html>not json</html>")}),
		"empty":     e.ch.Add(t, condasigstest.Package{Filename: "empty-1.0-0.conda", Sidecar: []byte("[]")}),
		"untrusted": e.ch.Add(t, condasigstest.Package{Filename: "untrusted-ca-1.0-0.conda", Signer: other, Identity: san, Issuer: issuer, TargetChannel: e.url}),
		"identity":  e.signed(t, "identity-1.0-0.conda", "https://github.com/demo-evil/demo/.github/workflows/release.yml@refs/tags/v1.0"),
	}
	// A bundle for another package, replayed under this filename.
	victim := e.signed(t, "victim-1.0-0.conda", san)
	replayed := e.ss.Bundle(t, san, issuer, condasigstest.Statement(victim.Filename, victim.SHA256, e.url))
	recs["replayed"] = e.ch.Add(t, condasigstest.Package{Filename: "replay-1.0-0.conda", Bundles: [][]byte{replayed}})

	want := map[string]struct {
		status policy.Status
		out    [3]policy.Outcome // error, warn, ignore
		code   string
	}{
		"missing":   {policy.StatusUnsigned, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Pass}, ""},
		"not found": {policy.StatusRetrievalFailure, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Warn}, "not-found"},
		"garbage":   {policy.StatusRetrievalFailure, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Warn}, "malformed"},
		"empty":     {policy.StatusRetrievalFailure, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Warn}, "malformed"},
		"untrusted": {policy.StatusVerificationFailure, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Warn}, "tlog"},
		"identity":  {policy.StatusVerificationFailure, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Warn}, "untrusted-identity"},
		"replayed":  {policy.StatusVerificationFailure, [3]policy.Outcome{policy.Fail, policy.Warn, policy.Warn}, "subject-name"},
	}
	for i, mode := range []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore} {
		v := e.verifier(t, policy.Policy{Require: mode})
		for name, rec := range recs {
			t.Run(name+"/"+string(mode), func(t *testing.T) {
				rep, err := v.Verify(context.Background(), e.pkg(rec))
				require.NoError(t, err)
				w := want[name]
				assert.Equal(t, w.status, rep.Status)
				assert.Equal(t, w.out[i], rep.Outcome, "%+v", rep.Reasons)
				if w.code != "" {
					assert.Contains(t, reasonCodes(rep), w.code)
				}
				assert.Nil(t, rep.Signer)
			})
		}
	}
	assert.Zero(t, e.ch.Requests("/linux-64/unsigned-1.0-0.conda.sigs"), "no sidecar is requested for a package without attestations_sha256")
}

func TestRetrievalFailureKinds(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "demo-1.0-0.conda", san)

	t.Run("hash mismatch", func(t *testing.T) {
		bad := rec
		bad.AttestationsSHA256 = strings.Repeat("ab", 32)
		// Serve other bytes at the advertised URL.
		require.NoError(t, os.WriteFile(filepath.Join(e.ch.Dir, "linux-64", rec.Filename+".sigs."+bad.AttestationsSHA256), []byte("[{}]"), 0o644))
		rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(bad))
		require.NoError(t, err)
		assert.Equal(t, policy.StatusRetrievalFailure, rep.Status)
		assert.Equal(t, policy.Fail, rep.Outcome)
		assert.Contains(t, reasonCodes(rep), "hash-mismatch")
		assert.Empty(t, rep.Bundles, "nothing is parsed before the hash is checked")
	})
	t.Run("invalid digest", func(t *testing.T) {
		bad := rec
		bad.AttestationsSHA256 = strings.ToUpper(rec.AttestationsSHA256)
		before := e.ch.Requests("/linux-64/" + rec.Filename + ".sigs." + bad.AttestationsSHA256)
		rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(bad))
		require.NoError(t, err)
		assert.Equal(t, policy.StatusRetrievalFailure, rep.Status)
		assert.Contains(t, reasonCodes(rep), "invalid-digest")
		assert.Equal(t, before, e.ch.Requests("/linux-64/"+rec.Filename+".sigs."+bad.AttestationsSHA256))
	})
	t.Run("too large", func(t *testing.T) {
		v, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual"),
			Policy: policy.Policy{Identities: trusted}, Fetcher: fetch.New(fetch.Options{MaxSidecarSize: 100})})
		require.NoError(t, err)
		rep, err := v.Verify(context.Background(), e.pkg(rec))
		require.NoError(t, err)
		assert.Equal(t, policy.StatusRetrievalFailure, rep.Status)
		assert.Contains(t, reasonCodes(rep), "too-large")
	})
}

func TestChannelMismatch(t *testing.T) {
	e := newEnv(t)
	rec := e.ch.Add(t, condasigstest.Package{Filename: "demo-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: "https://upstream.example.org/demo"})
	rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.Fail, rep.Outcome)
	assert.Contains(t, reasonCodes(rep), "target-channel-mismatch")
	for _, r := range rep.Reasons {
		if r.Code == "target-channel-mismatch" {
			assert.Contains(t, r.Message, "Package.Channel) or allow mirrors (channel_mismatch: warn)", "the message says how to allow a mirror, in library terms")
		}
	}

	rep, err = e.verifier(t, policy.Policy{ChannelMismatch: policy.ModeWarn}).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.Warn, rep.Outcome)

	// Naming the upstream channel: the served URL is a mirror of it.
	p := e.pkg(rec)
	p.Channel = "https://upstream.example.org/demo/"
	rep, err = e.verifier(t, policy.Policy{}).Verify(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "%+v", rep.Reasons)
}

func TestArtifactDigest(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "demo-1.0-0.conda", san)
	v := e.verifier(t, policy.Policy{})

	p := e.pkg(rec)
	p.ArtifactSHA256 = rec.SHA256
	rep, err := v.Verify(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)

	p.ArtifactSHA256 = strings.Repeat("0", 64)
	rep, err = v.Verify(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, policy.Fail, rep.Outcome)
	assert.Equal(t, []string{"artifact-mismatch"}, reasonCodes(rep))

	// A record without sha256: the attestation is checked against the bytes.
	norec := e.ch.Add(t, condasigstest.Package{Filename: "nosha-1.0-0.conda", OmitSHA256: true,
		Bundles: [][]byte{e.ss.Bundle(t, san, issuer, condasigstest.Statement("nosha-1.0-0.conda", rec.SHA256, e.url))}})
	p = e.pkg(norec)
	rep, err = v.Verify(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, policy.Fail, rep.Outcome, "no digest to compare with: fail closed")
	assert.Contains(t, reasonCodes(rep), string(attest.CodePackageDigestAbsent))
}

func TestMixedBundlesWarn(t *testing.T) {
	e := newEnv(t)
	const filename = "demo-1.0-0.conda"
	data := []byte("demo bytes")
	rec := e.ch.Add(t, condasigstest.Package{Filename: filename, Data: data, Bundles: [][]byte{
		[]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
		e.ss.Bundle(t, san, issuer, condasigstest.Statement(filename, sha(data), e.url)),
	}})
	rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.Warn, rep.Outcome, "an invalid bundle beside a trusted one is a tampering signal")
	assert.Equal(t, policy.StatusVerified, rep.Status)
	require.Len(t, rep.Bundles, 2)
	assert.False(t, rep.Bundles[0].Verified)
	assert.True(t, rep.Bundles[1].Verified)
}

func TestVerifyErrors(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(t, policy.Policy{})
	_, err := v.Verify(context.Background(), condasigs.Package{})
	assert.Error(t, err, "a package without a filename is misuse")
	_, err = v.Verify(context.Background(), condasigs.Package{Record: fetch.Record{Filename: "x.conda"}})
	assert.Error(t, err)
	_, err = v.Verify(context.Background(), condasigs.Package{URL: e.url + "/linux-64/y.conda", Record: fetch.Record{Filename: "x.conda"}})
	assert.Error(t, err, "URL and record disagree on the filename")

	rec := e.signed(t, "demo-1.0-0.conda", san)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Verify(ctx, e.pkg(rec))
	assert.ErrorIs(t, err, context.Canceled)

	_, err = condasigs.New(condasigs.Options{Policy: policy.Policy{Identities: trusted}})
	assert.ErrorContains(t, err, "Trust")
	_, err = condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual")})
	assert.ErrorContains(t, err, "no trusted identities")
}

// TestVerifyConcurrent shares one Verifier between 32 goroutines (-race).
func TestVerifyConcurrent(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "demo-1.0-0.conda", san)
	bad := e.signed(t, "evil-1.0-0.conda", "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main")
	v := e.verifier(t, policy.Policy{})
	var wg sync.WaitGroup
	outcomes := make([]policy.Outcome, 32)
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rec
			if i%2 == 1 {
				r = bad
			}
			rep, err := v.Verify(context.Background(), e.pkg(r))
			if err == nil {
				outcomes[i] = rep.Outcome
			}
		}()
	}
	wg.Wait()
	for i, o := range outcomes {
		if i%2 == 0 {
			assert.Equal(t, policy.Pass, o)
		} else {
			assert.Equal(t, policy.Fail, o)
		}
	}
}

// swapSource is a trust source whose material the test replaces, as a TUF
// refresh does.
type swapSource struct {
	snap atomic.Pointer[trustroot.Snapshot]
}

func (s *swapSource) Snapshot(context.Context) (*trustroot.Snapshot, error) {
	return s.snap.Load(), nil
}

func (s *swapSource) set(tm root.TrustedMaterial) {
	s.snap.Store(&trustroot.Snapshot{Material: tm, Info: trustroot.Info{Kind: "static"}})
}

// TestRefreshedTrustRootIsUsed: after the source hands out new material, a
// bundle from the new instance verifies and one from the old does not.
func TestRefreshedTrustRootIsUsed(t *testing.T) {
	e := newEnv(t)
	next := condasigstest.NewSigstore(t)
	oldRec := e.signed(t, "old-1.0-0.conda", san)
	newRec := e.ch.Add(t, condasigstest.Package{Filename: "new-1.0-0.conda", Signer: next, Identity: san, Issuer: issuer, TargetChannel: e.url})

	src := &swapSource{}
	src.set(e.ss.TrustedMaterial())
	v, err := condasigs.New(condasigs.Options{Trust: src, Policy: policy.Policy{Identities: trusted}, Fetcher: e.fetcher})
	require.NoError(t, err)
	outcome := func(rec fetch.Record) policy.Outcome {
		rep, err := v.Verify(context.Background(), e.pkg(rec))
		require.NoError(t, err)
		return rep.Outcome
	}
	assert.Equal(t, policy.Pass, outcome(oldRec))
	assert.Equal(t, policy.Fail, outcome(newRec))
	src.set(next.TrustedMaterial())
	assert.Equal(t, policy.Fail, outcome(oldRec), "a key removed from the root stops verifying")
	assert.Equal(t, policy.Pass, outcome(newRec), "a key added to the root verifies")
}

// TestUnusableURLIsMisuse: a URL the fetcher refuses (file:// without
// AllowFile) is the caller's configuration, an error, not a policy outcome.
func TestUnusableURLIsMisuse(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "demo-1.0-0.conda", san)
	v, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual"),
		Policy: policy.Policy{Require: policy.ModeIgnore, Identities: trusted}})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), condasigs.Package{URL: fileURL(e.ch) + "/linux-64/" + rec.Filename, Record: rec})
	require.Error(t, err)
	assert.ErrorIs(t, err, fetch.KindInvalidURL)
	assert.ErrorContains(t, err, "AllowFile")
}

// TestEmptyAdvertisementIsRetrievalFailure: an attestations_sha256 key with
// an empty value is not "unsigned", even under require: ignore.
func TestEmptyAdvertisementIsRetrievalFailure(t *testing.T) {
	e := newEnv(t)
	demo := e.signed(t, "demo-1.0-0.conda", san)
	doc := `{"packages.conda": {"demo-1.0-0.conda": {"name": "demo", "sha256": "` + demo.SHA256 + `", "attestations_sha256": ""}}}`
	rec, err := findRecord(strings.NewReader(doc), "demo-1.0-0.conda")
	require.NoError(t, err)
	rep, err := e.verifier(t, policy.Policy{Require: policy.ModeIgnore}).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.StatusRetrievalFailure, rep.Status)
	assert.Equal(t, policy.Warn, rep.Outcome)
	assert.Contains(t, reasonCodes(rep), "invalid-digest")
}

// TestEmptySidecarIsMalformed: a zero-byte sidecar whose hash is the one
// advertised is malformed, a retrieval failure.
func TestEmptySidecarIsMalformed(t *testing.T) {
	e := newEnv(t)
	rec := e.ch.Add(t, condasigstest.Package{Filename: "empty-1.0-0.conda", Sidecar: []byte{}})
	rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.StatusRetrievalFailure, rep.Status)
	assert.Contains(t, reasonCodes(rep), "malformed")
}
