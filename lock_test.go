package condasigs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// locked is the lock-file entry of a package of the env's channel, with
// the hashes its record has.
func (e *env) locked(rec fetch.Record) lockfile.Package {
	return lockfile.Package{URL: e.pkgURL(rec.Filename), SHA256: rec.SHA256, MD5: rec.MD5, Platforms: []string{"linux-64"}}
}

func outcomes(results []condasigs.Result) []string {
	var out []string
	for _, r := range results {
		switch {
		case r.Err != nil:
			out = append(out, "error")
		default:
			out = append(out, string(r.Report.Outcome)+" "+string(r.Report.Status))
		}
	}
	return out
}

func TestVerifyLocked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var lock []lockfile.Package
	for _, name := range []string{"a-1.0-0.conda", "b-1.0-0.conda", "c-1.0-0.tar.bz2"} {
		lock = append(lock, e.locked(e.signed(t, name, san)))
	}
	unsigned := e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	lock = append(lock, e.locked(unsigned))
	var progress []int
	results := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, lock, condasigs.BatchOptions{
		Progress: func(done, total int, _ condasigs.Result) { progress = append(progress, done) }})
	assert.Equal(t, []string{"pass verified", "pass verified", "pass verified", "fail unsigned"}, outcomes(results))
	assert.Equal(t, []int{1, 2, 3, 4}, progress)
	assert.Equal(t, 1, e.ch.Requests("/linux-64/repodata.json"), "repodata is read once per channel and subdir")
	for i, r := range results {
		assert.Equal(t, lock[i].URL, r.Package.URL, "in input order")
		assert.NotEmpty(t, r.Package.Record.SHA256, "the record came from repodata")
	}
}

// The lock file and the channel must agree on each package's hashes.
func TestVerifyLockedMismatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.signed(t, "a-1.0-0.conda", san)
	other := sha([]byte("another build"))
	cases := map[string]lockfile.Package{
		"sha256": {URL: e.pkgURL(rec.Filename), SHA256: other},
		"md5":    {URL: e.pkgURL(rec.Filename), MD5: "0123456789abcdef0123456789abcdef"},
		"both, md5 wrong": {URL: e.pkgURL(rec.Filename), SHA256: rec.SHA256,
			MD5: "0123456789abcdef0123456789abcdef"},
	}
	for name, lp := range cases {
		t.Run(name, func(t *testing.T) {
			for _, mode := range []policy.Mode{policy.ModeError, policy.ModeIgnore} {
				r := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(ctx, []lockfile.Package{lp}, condasigs.BatchOptions{})[0]
				require.NoError(t, r.Err)
				assert.Equal(t, policy.Fail, r.Report.Outcome, "whatever require says (%s)", mode)
				assert.Equal(t, []string{"lock-mismatch"}, reasonCodes(r.Report))
			}
		})
	}
	// Upper-case hex in the lock file is the same hash.
	lp := lockfile.Package{URL: e.pkgURL(rec.Filename), SHA256: upper(rec.SHA256), MD5: upper(rec.MD5)}
	r := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, []lockfile.Package{lp}, condasigs.BatchOptions{})[0]
	require.NoError(t, r.Err)
	assert.Equal(t, policy.Pass, r.Report.Outcome)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Without a sha256 in the record, the attestations are checked against the
// lock file's.
func TestVerifyLockedUsesLockDigest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	data := []byte("the package bytes")
	rec := e.ch.Add(t, condasigstest.Package{Filename: "a-1.0-0.conda", Data: data, OmitSHA256: true,
		Bundles: [][]byte{e.ss.Bundle(t, san, issuer, condasigstest.Statement("a-1.0-0.conda", sha(data), e.url))}})
	v := e.verifier(t, policy.Policy{})
	good := lockfile.Package{URL: e.pkgURL(rec.Filename), SHA256: sha(data)}
	bad := lockfile.Package{URL: e.pkgURL(rec.Filename), SHA256: sha([]byte("other bytes"))}
	none := lockfile.Package{URL: e.pkgURL(rec.Filename)}
	results := v.VerifyLocked(ctx, []lockfile.Package{good, bad, none}, condasigs.BatchOptions{})
	assert.Equal(t, []string{"pass verified", "fail verification-failure", "fail verification-failure"}, outcomes(results))
	assert.Equal(t, "subject-digest", string(results[1].Report.Bundles[0].Code))
	assert.Equal(t, "package-digest-absent", string(results[2].Report.Bundles[0].Code))
}

// A package the repodata does not list, or whose repodata cannot be read,
// is a retrieval failure: the require table decides, and ignore warns.
func TestVerifyLockedRecordUnavailable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.signed(t, "a-1.0-0.conda", san)
	gone := lockfile.Package{URL: e.pkgURL("gone-1.0-0.conda")}
	noSubdir := lockfile.Package{URL: e.url + "/osx-64/b-1.0-0.conda"}
	lock := []lockfile.Package{e.locked(rec), gone, noSubdir}
	for mode, want := range map[policy.Mode][]string{
		policy.ModeError:  {"pass verified", "fail retrieval-failure", "fail retrieval-failure"},
		policy.ModeWarn:   {"pass verified", "warn retrieval-failure", "warn retrieval-failure"},
		policy.ModeIgnore: {"pass verified", "warn retrieval-failure", "warn retrieval-failure"},
	} {
		results := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(ctx, lock, condasigs.BatchOptions{})
		assert.Equal(t, want, outcomes(results), mode)
		for _, r := range results[1:] {
			assert.Equal(t, []string{"record-unavailable"}, reasonCodes(r.Report))
		}
		assert.Contains(t, results[1].Report.Reasons[0].Message, `repodata.json: the repodata does not list "gone-1.0-0.conda"`)
		assert.Contains(t, results[2].Report.Reasons[0].Message, "osx-64/repodata.json: HTTP status 404")
	}
}

// Channels whose policy is disabled are not resolved at all.
func TestVerifyLockedDisabledChannel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.signed(t, "a-1.0-0.conda", san)
	cfg := policy.Config{Channels: []policy.ChannelPolicy{{Channel: e.url, Enabled: false}}}
	results := e.configured(t, cfg, nil, false).VerifyLocked(ctx, []lockfile.Package{e.locked(rec)}, condasigs.BatchOptions{})
	require.NoError(t, results[0].Err)
	assert.Equal(t, policy.StatusDisabled, results[0].Report.Status)
	assert.Equal(t, 0, e.ch.Requests("/linux-64/repodata.json"))
}

// An entry whose URL is unusable is that entry's error, not the batch's.
func TestVerifyLockedBadEntry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := e.signed(t, "a-1.0-0.conda", san)
	lock := []lockfile.Package{{URL: "not a url"}, e.locked(rec), {URL: "ftp://example.com/c/linux-64/x-1-0.conda"}}
	results := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, lock, condasigs.BatchOptions{})
	assert.Equal(t, []string{"error", "pass verified", "error"}, outcomes(results))
}

func TestVerifyLockedCanceled(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "a-1.0-0.conda", san)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, []lockfile.Package{e.locked(rec)}, condasigs.BatchOptions{})
	assert.ErrorIs(t, results[0].Err, context.Canceled)
	assert.Nil(t, results[0].Report)
}

// Each channel and subdir's repodata is read once, whatever the number of
// packages in it.
func TestVerifyLockedReadsEachRepodataOnce(t *testing.T) {
	ctx := context.Background()
	ss := condasigstest.NewSigstore(t)
	linux := condasigstest.NewChannel(t, "linux-64")
	noarch := linux.WithSubdir(t, "noarch")
	other := condasigstest.NewChannel(t, "linux-64")
	url, otherURL := linux.Serve(t), other.Serve(t)
	require.Equal(t, url, noarch.Serve(t), "one server for the channel's subdirs")
	var lock []lockfile.Package
	for i, ch := range []*condasigstest.Channel{linux, noarch, other, linux, noarch, other} {
		name := fmt.Sprintf("p%d-1.0-0.conda", i)
		rec := ch.Add(t, condasigstest.Package{Filename: name, Signer: ss})
		lock = append(lock, lockfile.Package{URL: ch.Package(name).URL, SHA256: rec.SHA256})
	}
	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
	require.NoError(t, err)
	v, err := condasigs.New(condasigs.Options{Trust: trust, Config: &policy.Config{Channels: []policy.ChannelPolicy{
		{Channel: url, Enabled: true, Policy: policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer}}}},
		{Channel: otherURL, Enabled: true, Policy: policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer}}}},
	}}})
	require.NoError(t, err)
	for _, r := range v.VerifyLocked(ctx, lock, condasigs.BatchOptions{}) {
		require.NoError(t, r.Err)
		assert.Equal(t, policy.Pass, r.Report.Outcome, "%s %+v", r.Report.Filename, r.Report.Reasons)
	}
	assert.Equal(t, 1, linux.Requests("/linux-64/repodata.json"))
	assert.Equal(t, 1, noarch.Requests("/noarch/repodata.json"))
	assert.Equal(t, 1, other.Requests("/linux-64/repodata.json"))
}
