package condasigs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (e *env) configured(t *testing.T, cfg policy.Config, pins *policy.PinStore, record bool) *condasigs.Verifier {
	t.Helper()
	v, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual"), Config: &cfg, Fetcher: e.fetcher, PinStore: pins, LearnPins: record})
	require.NoError(t, err)
	return v
}

func TestPerChannelConfig(t *testing.T) {
	e := newEnv(t)
	unsigned := e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	cfg := policy.Config{Channels: []policy.ChannelPolicy{
		{Channel: e.url, Enabled: true, Policy: policy.Policy{Require: policy.ModeWarn, Identities: trusted}},
	}}
	rep, err := e.configured(t, cfg, nil, false).Verify(context.Background(), e.pkg(unsigned))
	require.NoError(t, err)
	assert.Equal(t, policy.Warn, rep.Outcome, "the channel's entry applies: require warn")
	assert.Equal(t, e.url, rep.PolicyEntry)

	cfg.Channels[0].Enabled = false
	rep, err = e.configured(t, cfg, nil, false).Verify(context.Background(), e.pkg(unsigned))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)
	assert.Equal(t, policy.StatusDisabled, rep.Status)
	assert.Zero(t, e.ch.Requests("/linux-64/unsigned-1.0-0.conda"), "a disabled channel is not fetched from")

	other := policy.Config{Channels: []policy.ChannelPolicy{{Channel: "conda-forge", Enabled: true, Policy: policy.Policy{Identities: trusted}}}}
	rep, err = e.configured(t, other, nil, false).Verify(context.Background(), e.pkg(unsigned))
	require.NoError(t, err)
	assert.Equal(t, policy.StatusDisabled, rep.Status)
	assert.Equal(t, policy.Warn, rep.Outcome, "an unconfigured channel is never a silent pass")
	assert.Contains(t, rep.Reasons[0].Message, "no policy entry covers channel")

	silent := other
	silent.Default = &policy.ChannelPolicy{Enabled: false}
	rep, err = e.configured(t, silent, nil, false).Verify(context.Background(), e.pkg(unsigned))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "a disabled catch-all skips other channels on purpose")

	// A channel that cannot be normalised has no rule: misuse, not a pass.
	p := e.pkg(unsigned)
	p.Channel = "https://other.example.org/x%zz"
	_, err = e.configured(t, other, nil, false).Verify(context.Background(), p)
	assert.Error(t, err)

	other.Default = &policy.ChannelPolicy{Enabled: true, Policy: policy.Policy{Require: policy.ModeError, Identities: trusted}}
	rep, err = e.configured(t, other, nil, false).Verify(context.Background(), e.pkg(unsigned))
	require.NoError(t, err)
	assert.Equal(t, policy.Fail, rep.Outcome, "the catch-all applies")
	assert.Equal(t, "*", rep.PolicyEntry)
}

// TestMirrorEntry: packages served from a mirror get the upstream entry,
// and their attestations must name the upstream channel.
func TestMirrorEntry(t *testing.T) {
	e := newEnv(t)
	const upstream = "https://conda.example.org/demo"
	rec := e.ch.Add(t, condasigstest.Package{Filename: "demo-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: upstream})
	cfg := policy.Config{Channels: []policy.ChannelPolicy{{Channel: upstream, Enabled: true, Mirrors: []string{e.url},
		Policy: policy.Policy{Require: policy.ModeError, Identities: trusted}}}}
	rep, err := e.configured(t, cfg, nil, false).Verify(context.Background(), e.pkg(rec))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "%+v", rep.Reasons)
	assert.Equal(t, upstream, rep.PolicyEntry)

	// An attestation naming the mirror itself is for another channel.
	mirrorSigned := e.ch.Add(t, condasigstest.Package{Filename: "other-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url})
	rep, err = e.configured(t, cfg, nil, false).Verify(context.Background(), e.pkg(mirrorSigned))
	require.NoError(t, err)
	assert.Equal(t, policy.Fail, rep.Outcome)
	assert.Contains(t, reasonCodes(rep), "target-channel-mismatch")
}

func TestPinning(t *testing.T) {
	e := newEnv(t)
	first := e.signed(t, "demo-1.0-0.conda", san)
	changed := e.signed(t, "demo-2.0-0.conda", "https://github.com/demo/fork/.github/workflows/release.yml@refs/tags/v2.0")
	path := filepath.Join(t.TempDir(), "pins.json")
	pins, err := policy.LoadPins(path)
	require.NoError(t, err)
	cfg := func(mode policy.Mode) policy.Config {
		return policy.Config{Channels: []policy.ChannelPolicy{{Channel: e.url, Enabled: true,
			Policy: policy.Policy{Identities: trusted, Pinning: mode}}}}
	}

	v := e.configured(t, cfg(policy.ModeError), pins, true)
	rep, err := v.Verify(context.Background(), e.pkg(first))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)
	require.NotNil(t, rep.Pinning)
	assert.Equal(t, "demo", rep.Pinning.Package)
	assert.Contains(t, reasonCodes(rep), "pin-new")
	require.NoError(t, pins.Save())

	reloaded, err := policy.LoadPins(path)
	require.NoError(t, err)
	assert.Equal(t, 1, pinsIn(t, path))

	rep, err = e.configured(t, cfg(policy.ModeError), reloaded, false).Verify(context.Background(), e.pkg(changed))
	require.NoError(t, err)
	assert.Equal(t, policy.Fail, rep.Outcome, "another signer of the same package name")
	assert.Contains(t, reasonCodes(rep), "signer-changed")
	assert.Nil(t, rep.Signer)

	rep, err = e.configured(t, cfg(policy.ModeWarn), reloaded, false).Verify(context.Background(), e.pkg(changed))
	require.NoError(t, err)
	assert.Equal(t, policy.Warn, rep.Outcome)

	// Recording new pins never overwrites one: the warning stays.
	recording := e.configured(t, cfg(policy.ModeWarn), reloaded, true)
	for range 2 {
		rep, err = recording.Verify(context.Background(), e.pkg(changed))
		require.NoError(t, err)
		assert.Equal(t, policy.Warn, rep.Outcome)
		assert.Contains(t, reasonCodes(rep), "signer-changed")
	}

	rep, err = e.configured(t, cfg(""), reloaded, false).Verify(context.Background(), e.pkg(changed))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "pinning off")
	assert.Nil(t, rep.Pinning)
}

func TestPolicyAndConfigExclusive(t *testing.T) {
	e := newEnv(t)
	_, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "v"), Policy: policy.Policy{Identities: trusted}, Config: &policy.Config{}})
	assert.ErrorContains(t, err, "not both")
}

func TestTrustRootAge(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "demo-1.0-0.conda", san)
	verify := func(info trustroot.Info, warnAge, maxAge time.Duration) (*condasigs.Report, error) {
		src := &swapSource{}
		src.snap.Store(&trustroot.Snapshot{Material: e.ss.TrustedMaterial(), Info: info})
		v, err := condasigs.New(condasigs.Options{Trust: src, Policy: policy.Policy{Identities: trusted}, Fetcher: e.fetcher,
			TrustRootWarnAge: warnAge, TrustRootMaxAge: maxAge})
		require.NoError(t, err)
		return v.Verify(context.Background(), e.pkg(rec))
	}
	now := time.Now()
	fresh := trustroot.Info{Kind: "tuf", Source: "https://tuf.example", LoadedAt: now.Add(-time.Hour)}
	old := trustroot.Info{Kind: "tuf", Source: "https://tuf.example", LoadedAt: now.Add(-8 * 24 * time.Hour)}

	rep, err := verify(fresh, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)

	rep, err = verify(old, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, policy.Warn, rep.Outcome, "older than the default 7 days")
	assert.Equal(t, "192h0m0s", rep.TrustRootAge)
	assert.Contains(t, reasonCodes(rep), "trust-root-stale")

	rep, err = verify(old, -1, 0)
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "the warning turned off")

	_, err = verify(old, 0, 48*time.Hour)
	assert.ErrorIs(t, err, condasigs.ErrTrustRootStale)

	expired := fresh
	expired.Expires = now.Add(-time.Minute)
	_, err = verify(expired, 0, 0)
	assert.ErrorIs(t, err, condasigs.ErrTrustRootStale, "expired TUF metadata is never used")

	// A TUF root read from a cache with no trustworthy record of its last
	// update has an unknown age: it warns, and fails under a maximum age.
	for _, kind := range []string{"tuf", "set"} {
		unknown := trustroot.Info{Kind: kind, Source: "https://tuf.example", AgeUnknown: "no record of the last update"}
		rep, err = verify(unknown, 0, 0)
		require.NoError(t, err)
		assert.Equal(t, policy.Warn, rep.Outcome, kind)
		assert.Contains(t, reasonCodes(rep), string(policy.CodeTrustRootAgeUnknown), kind)
		assert.Empty(t, rep.TrustRootAge, kind)
		_, err = verify(unknown, 0, 48*time.Hour)
		assert.ErrorIs(t, err, condasigs.ErrTrustRootStale, kind)
		rep, err = verify(unknown, -1, 0)
		require.NoError(t, err)
		assert.Equal(t, policy.Pass, rep.Outcome, "%s: the warning turned off", kind)
	}

	file := trustroot.Info{Kind: "file", Source: "trusted_root.json", LoadedAt: now.Add(-365 * 24 * time.Hour)}
	rep, err = verify(file, 0, 48*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome, "a file's age is unknown")
}

// TestPinFirstUseIsAtomic: concurrent first verifications of one package
// name by two signers pin exactly one; the other signer is then flagged.
func TestPinFirstUseIsAtomic(t *testing.T) {
	e := newEnv(t)
	a := e.signed(t, "demo-1.0-0.conda", san)
	b := e.signed(t, "demo-2.0-0.conda", "https://github.com/demo/fork/.github/workflows/release.yml@refs/tags/v2.0")
	path := filepath.Join(t.TempDir(), "pins.json")
	pins, err := policy.LoadPins(path)
	require.NoError(t, err)
	v := e.configured(t, policy.Config{Channels: []policy.ChannelPolicy{{Channel: e.url, Enabled: true,
		Policy: policy.Policy{Identities: trusted, Pinning: policy.ModeError}}}}, pins, true)
	outcomes := make([]policy.Outcome, 16)
	var wg sync.WaitGroup
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := a
			if i%2 == 1 {
				rec = b
			}
			if rep, err := v.Verify(context.Background(), e.pkg(rec)); err == nil {
				outcomes[i] = rep.Outcome
			}
		}()
	}
	wg.Wait()
	require.NoError(t, pins.Save())
	assert.Equal(t, 1, pinsIn(t, path))
	passA, passB := 0, 0
	for i, o := range outcomes {
		require.Contains(t, []policy.Outcome{policy.Pass, policy.Fail}, o)
		if o == policy.Pass && i%2 == 0 {
			passA++
		}
		if o == policy.Pass && i%2 == 1 {
			passB++
		}
	}
	assert.True(t, (passA == 8 && passB == 0) || (passA == 0 && passB == 8), "only the pinned signer passes: %v", outcomes)
}

// Pins are keyed by the package name of the file name, which the
// attestation binds, never by the record's name, which the channel
// writes: a record that renames the package neither escapes its pin nor
// passes.
func TestPinKeyedByFileName(t *testing.T) {
	e := newEnv(t)
	fork := "https://github.com/demo/fork/.github/workflows/release.yml@refs/tags/v2.0"
	first := e.signed(t, "numpy-2.1-0.conda", san)
	byFork := func(filename, name string) fetch.Record {
		return e.ch.Add(t, condasigstest.Package{Filename: filename, Signer: e.ss, Identity: fork, Issuer: issuer, TargetChannel: e.url,
			EditRecord: func(r *fetch.Record) { r.Name = name }})
	}
	path := filepath.Join(t.TempDir(), "pins.json")
	pins, err := policy.LoadPins(path)
	require.NoError(t, err)
	cfg := func(require policy.Mode) policy.Config {
		return policy.Config{Channels: []policy.ChannelPolicy{{Channel: e.url, Enabled: true,
			Policy: policy.Policy{Require: require, Identities: trusted, Pinning: policy.ModeError}}}}
	}
	rep, err := e.configured(t, cfg(policy.ModeError), pins, true).Verify(context.Background(), e.pkg(first))
	require.NoError(t, err)
	require.Equal(t, policy.Pass, rep.Outcome)
	require.Equal(t, "numpy", rep.Pinning.Package)

	for i, name := range []string{"numpy", "numpy-x", "NumPy", ""} {
		rec := byFork(fmt.Sprintf("numpy-2.2-%d.conda", i), name)
		for _, mode := range []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore} {
			rep, err := e.configured(t, cfg(mode), pins, true).Verify(context.Background(), e.pkg(rec))
			require.NoError(t, err)
			assert.Equal(t, policy.Fail, rep.Outcome, "record name %q, require %s: another signer of numpy", name, mode)
			assert.Contains(t, reasonCodes(rep), "signer-changed", "record name %q, require %s", name, mode)
			assert.Nil(t, rep.Signer)
			if name != "numpy" && name != "" {
				assert.Contains(t, reasonCodes(rep), string(policy.CodeRecordInconsistent), "record name %q, require %s", name, mode)
			}
		}
	}
	require.NoError(t, pins.Save())
	assert.Equal(t, 1, pinsIn(t, path), "no pin was recorded under another name")
}

// A record whose name, version or build contradicts its file name is a
// verification failure in the require table, except that require: ignore
// warns too.
func TestInconsistentRecord(t *testing.T) {
	e := newEnv(t)
	edits := map[string]func(*fetch.Record){
		"name":    func(r *fetch.Record) { r.Name = "other" },
		"version": func(r *fetch.Record) { r.Version = "9.9" },
		"build":   func(r *fetch.Record) { r.Build = "1" },
		// CEP 27 binds no subdir: a record that says the file is of
		// another platform than the directory it is served from.
		"subdir": func(r *fetch.Record) { r.Subdir = "osx-arm64" },
	}
	for field, edit := range edits {
		rec := e.ch.Add(t, condasigstest.Package{Filename: "inconsistent-" + field + "-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer,
			TargetChannel: e.url, EditRecord: edit})
		for mode, want := range map[policy.Mode]policy.Outcome{policy.ModeError: policy.Fail, policy.ModeWarn: policy.Warn, policy.ModeIgnore: policy.Warn} {
			rep, err := e.verifier(t, policy.Policy{Require: mode}).Verify(context.Background(), e.pkg(rec))
			require.NoError(t, err)
			assert.Equal(t, want, rep.Outcome, "%s, require %s", field, mode)
			require.NotEmpty(t, rep.Reasons)
			assert.Equal(t, policy.CodeRecordInconsistent, rep.Reasons[0].Code, "%s, require %s", field, mode)
			if mode == policy.ModeError {
				assert.Equal(t, policy.StatusVerificationFailure, rep.Status)
				assert.Nil(t, rep.Signer, "a failed package names no signer")
			}
		}
	}
	// The consistent record passes: the check is about the contradiction.
	rep, err := e.verifier(t, policy.Policy{}).Verify(context.Background(), e.pkg(e.signed(t, "consistent-1.0-0.conda", san)))
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)
}
