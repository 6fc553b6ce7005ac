package attest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func publicGood(t *testing.T) *attest.Verifier {
	t.Helper()
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	require.NoError(t, err)
	return v
}

var realSubject = attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.Channel}

func TestRealPublicGoodBundleVerifies(t *testing.T) {
	v := publicGood(t)
	assert.Equal(t, attest.Thresholds{TransparencyLog: 1, ObserverTimestamps: 1, SignedCertificateTimestamps: 1}, v.Thresholds())
	evs, err := v.VerifySidecar(context.Background(), fixtures.Sidecar(fixtures.BundleFile), realSubject)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ev := evs[0]
	require.True(t, ev.Verified, ev.Message)
	assert.Empty(t, ev.Code)
	assert.Equal(t, fixtures.SAN, ev.SAN)
	assert.Equal(t, fixtures.Issuer, ev.Issuer)
	require.NotNil(t, ev.Claims)
	assert.Equal(t, "https://github.com/prefix-dev/sigstore-example", ev.Claims.SourceRepositoryURI)
	assert.Equal(t, "refs/heads/main", ev.Claims.SourceRepositoryRef)
	assert.Equal(t, "github-hosted", ev.Claims.RunnerEnvironment)
	assert.Equal(t, attest.PublishPredicateType, ev.PredicateType)
	assert.Equal(t, fixtures.Filename, ev.SubjectName)
	assert.Equal(t, fixtures.PackageSHA256, ev.SubjectSHA256)
	assert.Equal(t, fixtures.Channel, ev.TargetChannel)
	assert.Equal(t, attest.ChannelMatched, ev.ChannelMatch)
	require.Len(t, ev.LogEntries, 1)
	assert.Equal(t, "https://rekor.sigstore.dev", ev.LogEntries[0].LogURL)
	assert.Equal(t, int64(456119071), ev.LogEntries[0].Index)
	assert.False(t, ev.LogEntries[0].IntegratedTime.IsZero())
	require.NotEmpty(t, ev.Timestamps)
}

func TestRealRekorV2StagingBundleVerifies(t *testing.T) {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.StagingRootFile))
	require.NoError(t, err)
	ev := v.VerifyBundle(0, fixtures.Read(fixtures.StagingBundleFile), attest.Subject{
		Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel})
	require.True(t, ev.Verified, ev.Message)
	assert.Equal(t, fixtures.StagingSAN, ev.SAN)
	assert.Equal(t, fixtures.StagingIssuer, ev.Issuer)
	require.Len(t, ev.LogEntries, 1)
	assert.True(t, ev.LogEntries[0].IntegratedTime.IsZero(), "Rekor v2 entries carry no integrated time")
	require.Len(t, ev.Timestamps, 1)
	assert.Equal(t, "TimestampAuthority", ev.Timestamps[0].Type)
}

// TestRealBundleAgainstWrongRoot: a bundle from another Sigstore instance
// (an untrusted CA and log) must not verify.
func TestRealBundleAgainstWrongRoot(t *testing.T) {
	staging := fixtures.Read(fixtures.StagingBundleFile)
	ev := publicGood(t).VerifyBundle(0, staging, attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256})
	assert.False(t, ev.Verified)
	assert.False(t, ev.SignatureVerified)
	assert.Equal(t, attest.CodeTransparencyLog, ev.Code, ev.Message)

	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.GitHubRootFile))
	require.NoError(t, err)
	ev = v.VerifyBundle(0, fixtures.Read(fixtures.BundleFile), realSubject)
	assert.False(t, ev.Verified)
	assert.NotEmpty(t, ev.Code)
}

// TestRealBundleCEP27Checks: the real, validly signed bundle presented for
// another package, digest or channel.
func TestRealBundleCEP27Checks(t *testing.T) {
	v := publicGood(t)
	raw := fixtures.Read(fixtures.BundleFile)
	cases := []struct {
		name    string
		subject attest.Subject
		code    attest.Code
		channel attest.ChannelMatch
	}{
		{"replayed under another filename", attest.Subject{Filename: "evil-1.0-0.conda", SHA256: fixtures.PackageSHA256}, attest.CodeSubjectName, ""},
		{"other package digest", attest.Subject{Filename: fixtures.Filename, SHA256: strings.Repeat("ab", 32)}, attest.CodeSubjectDigest, ""},
		{"no package digest", attest.Subject{Filename: fixtures.Filename}, attest.CodePackageDigestAbsent, ""},
		{"other channel", attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: "https://prefix.dev/other"}, "", attest.ChannelMismatched},
		{"channel differs in case and slash only", attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: "HTTPS://Prefix.DEV:443/sigstore-example/"}, "", attest.ChannelMatched},
		{"channel with token", attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: "https://user:pw@prefix.dev/t/tk-123/sigstore-example"}, "", attest.ChannelMatched},
		{"channel path prefix is not the channel", attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: "https://prefix.dev/sigstore-example-evil"}, "", attest.ChannelMismatched},
		{"package channel not a URL", attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: "sigstore-example"}, "", attest.ChannelMismatched},
		{"no channel given", attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256}, "", attest.ChannelUnchecked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := v.VerifyBundle(0, raw, c.subject)
			assert.Equal(t, c.code, ev.Code, ev.Message)
			assert.Equal(t, c.code == "", ev.Verified)
			if c.code == "" {
				assert.Equal(t, c.channel, ev.ChannelMatch)
			}
		})
	}
}

// mutate returns the real bundle with fn applied to its JSON.
func mutate(t *testing.T, fn func(m map[string]any)) []byte {
	t.Helper()
	m := fixtures.RawJSON(fixtures.BundleFile)
	fn(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func dig(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func flipB64(t *testing.T, s string, at int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	if at < 0 {
		at = len(b) + at
	}
	b[at] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// TestRealBundleTampering: any change to the signed parts of the real bundle
// must make it fail, with the code of the check that caught it.
func TestRealBundleTampering(t *testing.T) {
	v := publicGood(t)
	cases := []struct {
		name  string
		fn    func(m map[string]any)
		codes []attest.Code
	}{
		{"DSSE payload byte flipped", func(m map[string]any) {
			env := dig(m, "dsseEnvelope")
			env["payload"] = flipB64(t, env["payload"].(string), 40)
		}, []attest.Code{attest.CodeTransparencyLog, attest.CodeSignature}},
		{"DSSE payload rewritten for another file", func(m map[string]any) {
			env := dig(m, "dsseEnvelope")
			p, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
			p = []byte(strings.Replace(string(p), fixtures.Filename, "evil-2.1.0-hb0f4dca_0.conda", 1))
			env["payload"] = base64.StdEncoding.EncodeToString(p)
		}, []attest.Code{attest.CodeTransparencyLog, attest.CodeSignature}},
		{"signature byte flipped", func(m map[string]any) {
			sig := dig(m, "dsseEnvelope")["signatures"].([]any)[0].(map[string]any)
			sig["sig"] = flipB64(t, sig["sig"].(string), -3)
		}, []attest.Code{attest.CodeTransparencyLog, attest.CodeSignature}},
		{"certificate byte flipped", func(m map[string]any) {
			c := dig(m, "verificationMaterial", "certificate")
			c["rawBytes"] = flipB64(t, c["rawBytes"].(string), 200)
		}, []attest.Code{attest.CodeBundleMalformed, attest.CodeTransparencyLog, attest.CodeCertificate, attest.CodeSignature}},
		{"inclusion proof hash flipped", func(m map[string]any) {
			e := dig(m, "verificationMaterial")["tlogEntries"].([]any)[0].(map[string]any)
			p := e["inclusionProof"].(map[string]any)
			p["rootHash"] = flipB64(t, p["rootHash"].(string), 0)
		}, []attest.Code{attest.CodeTransparencyLog}},
		{"SET flipped", func(m map[string]any) {
			e := dig(m, "verificationMaterial")["tlogEntries"].([]any)[0].(map[string]any)
			p := e["inclusionPromise"].(map[string]any)
			p["signedEntryTimestamp"] = flipB64(t, p["signedEntryTimestamp"].(string), -5)
		}, []attest.Code{attest.CodeTransparencyLog}},
		{"declared log entry kind changed", func(m map[string]any) {
			e := dig(m, "verificationMaterial")["tlogEntries"].([]any)[0].(map[string]any)
			e["kindVersion"].(map[string]any)["kind"] = "intoto"
		}, []attest.Code{attest.CodeTransparencyLog}},
		{"log index changed", func(m map[string]any) {
			e := dig(m, "verificationMaterial")["tlogEntries"].([]any)[0].(map[string]any)
			e["logIndex"] = "456119072"
		}, []attest.Code{attest.CodeTransparencyLog}},
		{"no tlog entry", func(m map[string]any) {
			dig(m, "verificationMaterial")["tlogEntries"] = []any{}
		}, []attest.Code{attest.CodeTransparencyLog, attest.CodeBundleMalformed}},
		{"bundle v0.4", func(m map[string]any) {
			m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json"
		}, []attest.Code{attest.CodeBundleUnsupported}},
		{"unknown media type", func(m map[string]any) {
			m["mediaType"] = "application/json"
		}, []attest.Code{attest.CodeBundleUnsupported}},
		{"message signature instead of DSSE", func(m map[string]any) {
			delete(m, "dsseEnvelope")
			m["messageSignature"] = map[string]any{
				"messageDigest": map[string]any{"algorithm": "SHA2_256", "digest": base64.StdEncoding.EncodeToString(make([]byte, 32))},
				"signature":     base64.StdEncoding.EncodeToString([]byte("sig")),
			}
		}, []attest.Code{attest.CodeNotDSSE}},
		{"unknown field", func(m map[string]any) { m["extra"] = true }, []attest.Code{attest.CodeBundleMalformed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := v.VerifyBundle(0, mutate(t, c.fn), realSubject)
			assert.False(t, ev.Verified)
			assert.False(t, ev.SignatureVerified)
			assert.Contains(t, c.codes, ev.Code, ev.Message)
			assert.NotEmpty(t, ev.Message)
		})
	}
}

// TestRealBundleEveryByteFlip flips one bit at many offsets of each real
// bundle. A variant may still verify only where the bytes are not
// authenticated and nothing that is reported depends on them (base64
// padding bits, a checkpoint's witness cosignatures and signer-name text,
// certificates embedded in an RFC 3161 token beside the trusted ones, the
// media type's minor version): its evidence must then be exactly the
// original's. Any other surviving flip is a failure.
func TestRealBundleEveryByteFlip(t *testing.T) {
	cases := []struct {
		name, bundle, root string
		subject            attest.Subject
	}{
		{"public-good rekor v1", fixtures.BundleFile, fixtures.PublicGoodRootFile, realSubject},
		{"staging rekor v2", fixtures.StagingBundleFile, fixtures.StagingRootFile,
			attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := attest.NewVerifier(fixtures.TrustedRoot(c.root))
			require.NoError(t, err)
			raw := fixtures.Read(c.bundle)
			want := v.VerifyBundle(0, raw, c.subject)
			require.True(t, want.Verified)
			want.MediaType = ""
			step := 3
			if testing.Short() {
				step = 61
			}
			survived := 0
			for i := 0; i < len(raw); i += step {
				mutated := append([]byte(nil), raw...)
				mutated[i] ^= 0x01
				got := v.VerifyBundle(0, mutated, c.subject)
				if !got.Verified {
					continue
				}
				survived++
				got.MediaType = ""
				assert.Equalf(t, want, got, "bit flipped at offset %d (%q) verifies with other evidence", i, raw[max(0, i-10):min(len(raw), i+10)])
			}
			t.Logf("%d of %d flips left the evidence unchanged and still verified", survived, len(raw)/step)
		})
	}
}

func TestVerifySidecarMalformed(t *testing.T) {
	v := publicGood(t)
	for _, s := range []string{"", "null", "{}", "[]", "[1]", `["x"]`, "[{}", "[{}] x", "\xff\xfe"} {
		_, err := v.VerifySidecar(context.Background(), []byte(s), realSubject)
		assert.ErrorIs(t, err, attest.ErrMalformedSidecar, "%q", s)
	}
}

func TestVerifySidecarEachBundleIndependently(t *testing.T) {
	v := publicGood(t)
	good := string(fixtures.Read(fixtures.BundleFile))
	side := "[" + good + `, {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}, ` + good + "]"
	evs, err := v.VerifySidecar(context.Background(), []byte(side), realSubject)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.True(t, evs[0].Verified)
	assert.False(t, evs[1].Verified)
	assert.Equal(t, attest.CodeBundleMalformed, evs[1].Code)
	assert.True(t, evs[2].Verified)
	for i, ev := range evs {
		assert.Equal(t, i, ev.Index)
	}
}

func TestVerifySidecarLimits(t *testing.T) {
	v := publicGood(t)
	good := string(fixtures.Read(fixtures.BundleFile))
	many := "[" + strings.TrimSuffix(strings.Repeat(good+",", attest.MaxBundles+1), ",") + "]"
	_, err := v.VerifySidecar(context.Background(), []byte(many), realSubject)
	assert.ErrorIs(t, err, attest.ErrMalformedSidecar)
	assert.ErrorContains(t, err, "more than the limit")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.VerifySidecar(ctx, fixtures.Sidecar(fixtures.BundleFile), realSubject)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestLogEntriesAreTheVerifiedOnes: an extra entry of a trusted log whose
// inclusion promise fails is skipped by sigstore-go; the evidence must not
// list it as verified.
func TestLogEntriesAreTheVerifiedOnes(t *testing.T) {
	v := publicGood(t)
	b := mutate(t, func(m map[string]any) {
		vm := dig(m, "verificationMaterial")
		entries := vm["tlogEntries"].([]any)
		extra := map[string]any{}
		for k, val := range entries[0].(map[string]any) {
			extra[k] = val
		}
		extra["logIndex"] = "1"
		delete(extra, "inclusionProof")
		vm["tlogEntries"] = append(entries, extra)
	})
	ev := v.VerifyBundle(0, b, realSubject)
	require.True(t, ev.Verified, ev.Message)
	require.Len(t, ev.LogEntries, 1)
	assert.Equal(t, int64(456119071), ev.LogEntries[0].Index)
}
