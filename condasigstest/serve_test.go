package condasigstest_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// kitVerifier trusts ss and the kit's default signer.
func kitVerifier(t *testing.T, ss *condasigstest.Sigstore) *condasigs.Verifier {
	t.Helper()
	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
	require.NoError(t, err)
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: policy.Policy{
		Identities: []policy.Identity{{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer}}}})
	require.NoError(t, err)
	return v
}

// A package added before Serve is signed again for the served URL, in
// every subdir of the channel, and verifies over HTTP.
func TestAddBeforeServe(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	noarch := ch.WithSubdir(t, "noarch")
	before := ch.Add(t, condasigstest.Package{Filename: filename, Signer: ss})
	ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	noarch.Add(t, condasigstest.Package{Filename: "tool-1.0-0.conda", Signer: ss})

	base := noarch.Serve(t) // any subdir's Serve starts the channel's server
	assert.Equal(t, base, ch.Serve(t))
	pkg := ch.Package(filename)
	assert.NotEqual(t, before.AttestationsSHA256, pkg.Record.AttestationsSHA256, "signed again, for the served URL")
	assert.Equal(t, base+"/linux-64/"+filename, pkg.URL)

	v := kitVerifier(t, ss)
	for _, p := range []condasigs.Package{pkg, noarch.Package("tool-1.0-0.conda")} {
		rep, err := v.Verify(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, policy.Pass, rep.Outcome, "%s: %+v", p.URL, rep.Reasons)
	}
	rep, err := v.Verify(context.Background(), ch.Package("unsigned-1.0-0.conda"))
	require.NoError(t, err)
	assert.Equal(t, policy.StatusUnsigned, rep.Status)
}

// Adds racing with Serve all end up signed for the URL they are served at.
func TestAddDuringServe(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	names := []string{"a-1-0.conda", "b-1-0.conda", "c-1-0.conda", "d-1-0.conda", "e-1-0.conda", "f-1-0.conda"}
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() { ch.Add(t, condasigstest.Package{Filename: name, Signer: ss}) })
	}
	ch.Serve(t)
	wg.Wait()
	v := kitVerifier(t, ss)
	for _, name := range names {
		rep, err := v.Verify(context.Background(), ch.Package(name))
		require.NoError(t, err)
		assert.Equal(t, policy.Pass, rep.Outcome, "%s: %+v", name, rep.Reasons)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and stops
// the goroutine, as t.Fatalf does, without failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs fn with a fatalRecorder in a goroutine of its own and
// returns the message fn failed with, or "".
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
	}()
	<-done
	return rec.msg
}

// An attestation for the channel's file:// URL on a channel served over
// HTTP fails the test at once, naming both URLs, whether the package comes
// after Serve or before it, and whether the kit signs it or the test does.
func TestFileTargetOnServedChannel(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	digest := sha(nil)
	cases := []struct {
		name   string
		subdir string // of the package
		target string // the file:// targetChannel; "" for the channel's own
		run    func(tb testing.TB, ch *condasigstest.Channel)
	}{
		{"signer after Serve", "linux-64", "", func(tb testing.TB, ch *condasigstest.Channel) {
			ch.Serve(tb)
			ch.Add(tb, condasigstest.Package{Filename: filename, Signer: ss, TargetChannel: fileURL(ch)})
		}},
		{"signer before Serve", "linux-64", "", func(tb testing.TB, ch *condasigstest.Channel) {
			ch.Add(tb, condasigstest.Package{Filename: filename, Signer: ss, TargetChannel: fileURL(ch)})
			ch.Serve(tb)
		}},
		{"hand-made bundles after Serve", "linux-64", "", func(tb testing.TB, ch *condasigstest.Channel) {
			ch.Serve(tb)
			ch.Add(tb, condasigstest.Package{Filename: filename, Bundles: [][]byte{
				ss.Bundle(tb, identity, issuer, condasigstest.Statement(filename, digest, channel)),
				ss.Bundle(tb, identity, issuer, condasigstest.Statement(filename, digest, fileURL(ch))),
			}})
		}},
		{"other subdir before Serve", "noarch", "FILE:///elsewhere", func(tb testing.TB, ch *condasigstest.Channel) {
			noarch := ch.WithSubdir(tb, "noarch")
			noarch.Add(tb, condasigstest.Package{Filename: filename, Signer: ss, TargetChannel: "FILE:///elsewhere"})
			ch.Serve(tb)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := condasigstest.NewChannel(t, "linux-64")
			msg := fatalOf(t, func(tb testing.TB) { c.run(tb, ch) })
			require.NotEmpty(t, msg, "the test was not failed")
			target := c.target
			if target == "" {
				target = fileURL(ch)
			}
			assert.Equal(t, "condasigstest: "+c.subdir+"/"+filename+": the attestation names targetChannel "+target+
				", but the channel is served over HTTP at "+ch.URL()+", where it would fail verification (target-channel-mismatch); "+
				"leave Package.TargetChannel empty to sign for the channel's own URL, or name an http(s) channel", msg)
		})
	}
}

// A file:// targetChannel is fine on a channel that is not served, and an
// http(s) one on a served channel.
func TestFileTargetOnFileChannel(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	assert.Empty(t, fatalOf(t, func(tb testing.TB) {
		ch.Add(tb, condasigstest.Package{Filename: filename, Signer: ss, TargetChannel: fileURL(ch)})
		ch.Add(tb, condasigstest.Package{Filename: "plain-1.0-0.conda", Signer: ss})
	}))
	served := condasigstest.NewChannel(t, "linux-64")
	assert.Empty(t, fatalOf(t, func(tb testing.TB) {
		served.Add(tb, condasigstest.Package{Filename: filename, Signer: ss, TargetChannel: channel})
		served.Add(tb, condasigstest.Package{Filename: "garbage-1.0-0.conda", Sidecar: []byte(`[{"dsseEnvelope":{"payload":"%%"}}, 1]`)})
		served.Serve(tb)
		served.Add(tb, condasigstest.Package{Filename: "after-1.0-0.conda", Signer: ss, NoPredicate: true})
	}))
}
