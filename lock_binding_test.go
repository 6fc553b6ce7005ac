package condasigs_test

import (
	"context"
	"crypto/md5" //nolint:gosec // conda's md5, as lock files carry it
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

func md5hex(b []byte) string {
	s := md5.Sum(b) //nolint:gosec
	return hex.EncodeToString(s[:])
}

// bindingEnv is a hostile channel: at the URL of "swapped-1.0-0.conda" it
// serves evil bytes, while the record carries the sha256 of the good bytes
// (the one the real attestation names) and the md5 of the evil ones. An
// honest package sits beside it.
type bindingEnv struct {
	*env
	good, evil []byte
	swapped    fetch.Record
	honest     fetch.Record
}

func newBindingEnv(t *testing.T) *bindingEnv {
	e := &bindingEnv{env: newEnv(t), good: []byte("the package the publisher built"), evil: []byte("what the channel serves instead")}
	const fn = "swapped-1.0-0.conda"
	e.swapped = e.ch.Add(t, condasigstest.Package{Filename: fn, Data: e.evil, RecordSHA256: sha(e.good),
		Bundles: [][]byte{e.ss.Bundle(t, san, issuer, condasigstest.Statement(fn, sha(e.good), e.url))}})
	require.Equal(t, md5hex(e.evil), e.swapped.MD5, "the record's md5 is the evil bytes'")
	e.honest = e.signed(t, "honest-1.0-0.conda", san)
	return e
}

func (e *bindingEnv) entry(rec fetch.Record, sha256, md5 string) lockfile.Package {
	return lockfile.Package{URL: e.pkgURL(rec.Filename), SHA256: sha256, MD5: md5, Platforms: []string{"linux-64"}}
}

// A lock entry passes only when the installer will check the bytes against
// the SHA-256 the attestations were checked against. A hashless or
// md5-only entry binds nothing: it fails under require: error and warns
// under warn and ignore, saying how to fix the lock file.
func TestLockEntryMustBindTheDigest(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	cases := []struct {
		name  string
		entry lockfile.Package
		// want is the outcome and first reason code under error, warn and ignore.
		want [3]string
	}{
		{"hashless line", e.entry(e.swapped, "", ""), [3]string{"fail lock-unbound", "warn lock-unbound", "warn lock-unbound"}},
		{"md5 line of the evil bytes", e.entry(e.swapped, "", md5hex(e.evil)), [3]string{"fail lock-unbound", "warn lock-unbound", "warn lock-unbound"}},
		{"sha256 line of the evil bytes", e.entry(e.swapped, sha(e.evil), ""), [3]string{"fail lock-mismatch", "fail lock-mismatch", "fail lock-mismatch"}},
		// The installer checks the bytes against this digest and refuses
		// the evil ones: the pass is about what can be installed.
		{"sha256 line of the good bytes", e.entry(e.swapped, sha(e.good), ""), [3]string{"pass none", "pass none", "pass none"}},
		{"honest hashless line", e.entry(e.honest, "", ""), [3]string{"fail lock-unbound", "warn lock-unbound", "warn lock-unbound"}},
		{"honest md5 line", e.entry(e.honest, "", e.honest.MD5), [3]string{"fail lock-unbound", "warn lock-unbound", "warn lock-unbound"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, mode := range []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore} {
				r := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(ctx, []lockfile.Package{tc.entry}, condasigs.BatchOptions{})[0]
				require.NoError(t, r.Err)
				assert.Equal(t, tc.want[i], firstCode(r.Report), "require %s", mode)
				if r.Report.Outcome == policy.Fail {
					assert.Nil(t, r.Report.Signer, "require %s: no signer for a package that fails", mode)
				}
				if firstCode(r.Report) == "fail lock-unbound" || firstCode(r.Report) == "warn lock-unbound" {
					assert.Contains(t, r.Report.Reasons[0].Message, "conda list --explicit --sha256", "the message says how to fix the lock file")
				}
			}
		})
	}
}

// firstCode is the outcome and the first reason code, "none" when the
// report has no reason.
func firstCode(r *condasigs.Report) string {
	code := "none"
	if len(r.Reasons) > 0 {
		code = string(r.Reasons[0].Code)
	}
	return string(r.Outcome) + " " + code
}

// With DownloadUnhashed, an entry without sha256 is bound to the bytes
// downloaded: their SHA-256 is what the attestations are checked against,
// and bytes that contradict the record fail the package, whatever require
// says. With DownloadDir, only bytes that agree with the record are kept.
func TestDownloadUnhashed(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	long := e.ch.Add(t, condasigstest.Package{Filename: "long-1.0-0.conda", Data: []byte("longer than the record says"), Signer: e.ss, Identity: san, Issuer: issuer,
		TargetChannel: e.url, EditRecord: func(r *fetch.Record) { r.Size-- }})
	dir := filepath.Join(t.TempDir(), "downloads")
	entries := []lockfile.Package{
		e.entry(e.swapped, "", ""), e.entry(e.swapped, "", md5hex(e.evil)),
		e.entry(e.honest, "", ""), e.entry(e.honest, "", e.honest.MD5),
		e.entry(long, "", ""),
	}
	for _, mode := range []policy.Mode{policy.ModeError, policy.ModeWarn, policy.ModeIgnore} {
		results := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(ctx, entries, condasigs.BatchOptions{DownloadUnhashed: true, DownloadDir: dir})
		got := make([]string, len(results))
		for i, r := range results {
			require.NoError(t, r.Err)
			got[i] = firstCode(r.Report)
		}
		tooLong := "fail lock-unbound"
		if mode != policy.ModeError {
			tooLong = "warn lock-unbound"
		}
		assert.Equal(t, []string{"fail artifact-mismatch", "fail artifact-mismatch", "pass package-downloaded", "pass package-downloaded", tooLong}, got, "require %s", mode)

		honest := results[2].Report
		assert.Equal(t, e.honest.SHA256, honest.PackageSHA256)
		require.NotEmpty(t, honest.Reasons)
		last := honest.Reasons[len(honest.Reasons)-1]
		assert.Equal(t, policy.CodePackageDownloaded, last.Code)
		assert.Contains(t, last.Message, filepath.Join(dir, "linux-64", e.honest.Filename))
		assert.Contains(t, results[4].Report.Reasons[0].Message, "larger than the cap of", "the record's size caps the download")
	}
	// Only the honest package was kept, byte for byte; nothing else, not
	// even a temporary file, is left.
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, names, 1)
	assert.Equal(t, "linux-64", names[0].Name(), "kept by subdir, as a channel lays them out")
	names, err = os.ReadDir(filepath.Join(dir, "linux-64"))
	require.NoError(t, err)
	require.Len(t, names, 1)
	assert.Equal(t, e.honest.Filename, names[0].Name())
	kept, err := os.ReadFile(filepath.Join(dir, "linux-64", e.honest.Filename))
	require.NoError(t, err)
	assert.Equal(t, e.honest.SHA256, sha(kept))

	// Without DownloadDir, nothing is written. An md5 entry is bound to the
	// bytes downloaded: the installer checks their md5. A line without a
	// hash is not: the installer checks nothing, so it warns.
	results := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, entries[2:4], condasigs.BatchOptions{DownloadUnhashed: true})
	for i, want := range []string{"warn package-downloaded", "pass package-downloaded"} {
		r := results[i]
		require.NoError(t, r.Err)
		assert.Equal(t, want, firstCode(r.Report), entries[2+i].URL)
		assert.Contains(t, r.Report.Reasons[len(r.Report.Reasons)-1].Message, "they were not kept")
	}
}

// The downloaded bytes are compared with every hash and size the record
// and the lock entry give, also when the record gives no sha256 (the
// attestations are then checked against the downloaded bytes' own).
func TestDownloadChecksEveryHash(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	good := []byte("good bytes, attested")
	sign := func(fn string, edit func(*fetch.Record)) fetch.Record {
		return e.ch.Add(t, condasigstest.Package{Filename: fn, Data: good, Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url, EditRecord: edit})
	}
	recMD5 := sign("recmd5-1.0-0.conda", func(r *fetch.Record) { r.SHA256 = ""; r.MD5 = md5hex([]byte("other")) })
	lockMD5 := sign("lockmd5-1.0-0.conda", func(r *fetch.Record) { r.SHA256 = ""; r.MD5 = "" })
	short := sign("short-1.0-0.conda", func(r *fetch.Record) { r.SHA256 = ""; r.MD5 = ""; r.Size++ })
	lockSHA := sign("locksha-1.0-0.conda", func(r *fetch.Record) { r.SHA256 = "" })
	entries := []lockfile.Package{
		e.entry(recMD5, "", ""),              // the record's md5 is of other bytes
		e.entry(lockMD5, "", md5hex(e.evil)), // the lock's md5 is of other bytes
		e.entry(short, "", ""),               // shorter than the record says
		{URL: e.pkgURL(lockSHA.Filename), SHA256: sha(e.evil), Format: lockfile.FormatCondaLock}, // the lock's sha256
	}
	res := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, entries, condasigs.BatchOptions{DownloadUnhashed: true})
	for i, r := range res {
		require.NoError(t, r.Err)
		assert.Equal(t, "fail artifact-mismatch", firstCode(r.Report), entries[i].URL)
	}
}

// conda-lock install checks only the md5 of each package: it renders an
// explicit file with #md5 lines. A conda-lock entry's sha256 binds the
// attestations only when the caller says its installer checks sha256.
func TestCondaLockBindsOnlyWithSHA256Installer(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	swapped := lockfile.Package{URL: e.pkgURL(e.swapped.Filename), SHA256: sha(e.good), MD5: md5hex(e.evil), Format: lockfile.FormatCondaLock}
	honest := lockfile.Package{URL: e.pkgURL(e.honest.Filename), SHA256: e.honest.SHA256, MD5: e.honest.MD5, Format: lockfile.FormatCondaLock}
	for _, c := range []struct {
		opts condasigs.BatchOptions
		want []string
	}{
		{condasigs.BatchOptions{}, []string{"fail lock-unbound", "fail lock-unbound"}},
		{condasigs.BatchOptions{DownloadUnhashed: true}, []string{"fail artifact-mismatch", "pass package-downloaded"}},
		// micromamba or pixi install it: the installer refuses the evil
		// bytes, whose sha256 is not the entry's.
		{condasigs.BatchOptions{InstallerChecksSHA256: true}, []string{"pass none", "pass none"}},
	} {
		res := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, []lockfile.Package{swapped, honest}, c.opts)
		for i, r := range res {
			require.NoError(t, r.Err)
			assert.Equal(t, c.want[i], firstCode(r.Report), "%+v", c.opts)
		}
		if !c.opts.DownloadUnhashed && !c.opts.InstallerChecksSHA256 {
			assert.Contains(t, res[0].Report.Reasons[0].Message, "conda-lock install checks only the md5")
		}
	}
}

// A record size of the largest int64 is a cap like any other: no
// overflow, no panic, and the download is capped all the same.
func TestDownloadHugeRecordSize(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	huge := e.ch.Add(t, condasigstest.Package{Filename: "huge-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url,
		EditRecord: func(r *fetch.Record) { r.Size = math.MaxInt64 }})
	r := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, []lockfile.Package{e.entry(huge, "", huge.MD5)}, condasigs.BatchOptions{DownloadUnhashed: true})[0]
	require.NoError(t, r.Err)
	assert.Equal(t, "fail artifact-mismatch", firstCode(r.Report), "the bytes are shorter than the record says")
}

// Kept files are published after the verdict, only for packages that do
// not fail, and never replace one another: two packages of one file name
// from two channels cannot make the pass of one point at the bytes of the
// other.
func TestKeptDownloadsAfterVerdict(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	other := condasigstest.NewChannel(t, "linux-64")
	otherURL := other.Serve(t)
	const fn = "twin-1.0-0.conda"
	signed := e.ch.Add(t, condasigstest.Package{Filename: fn, Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url})
	evil := other.Add(t, condasigstest.Package{Filename: fn, Data: []byte("the other channel's bytes"), Unsigned: true})
	unsigned := e.ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	cfg := policy.Config{Channels: []policy.ChannelPolicy{
		{Channel: e.url, Enabled: true, Policy: policy.Policy{Require: policy.ModeError, Identities: trusted}},
		{Channel: otherURL, Enabled: true, Policy: policy.Policy{Require: policy.ModeWarn, Identities: trusted}},
	}}
	v := e.configured(t, cfg, nil, false)
	for _, order := range [][2]string{{e.url, otherURL}, {otherURL, e.url}} {
		dir := filepath.Join(t.TempDir(), "keep")
		var entries []lockfile.Package
		for _, ch := range order {
			entries = append(entries, lockfile.Package{URL: ch + "/linux-64/" + fn})
		}
		entries = append(entries, e.entry(unsigned, "", ""))
		res := v.VerifyLocked(ctx, entries, condasigs.BatchOptions{DownloadUnhashed: true, DownloadDir: dir, Fetchers: 1})
		for _, r := range res {
			require.NoError(t, r.Err)
		}
		assert.Equal(t, policy.Fail, res[2].Report.Outcome, "unsigned under require: error")
		kept, err := os.ReadFile(filepath.Join(dir, "linux-64", fn))
		require.NoError(t, err)
		for i, ch := range order {
			rep := res[i].Report
			msg := rep.Reasons[len(rep.Reasons)-1].Message
			if strings.Contains(msg, "kept at") {
				want := signed.SHA256
				if ch == otherURL {
					want = evil.SHA256
				}
				assert.Equal(t, want, sha(kept), "the report of %s says its file is kept: it must hold its bytes", ch)
			}
		}
		names, err := os.ReadDir(filepath.Join(dir, "linux-64"))
		require.NoError(t, err)
		require.Len(t, names, 1, "one file kept, no temporary file, nothing of the failed package")
	}
}

// A package manager that installs from the records VerifyLocked read
// (InstallerChecksRecords) is bound by them: the swapped package passes,
// because the installer will refuse its bytes, and an entry whose record
// has no sha256 is still unbound.
func TestInstallerChecksRecords(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	nosha := e.ch.Add(t, condasigstest.Package{Filename: "nosha-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url, OmitSHA256: true})
	results := e.verifier(t, policy.Policy{}).VerifyLocked(ctx,
		[]lockfile.Package{e.entry(e.swapped, "", ""), e.entry(e.honest, "", ""), e.entry(nosha, "", "")},
		condasigs.BatchOptions{InstallerChecksRecords: true})
	var got []string
	for _, r := range results {
		require.NoError(t, r.Err)
		got = append(got, firstCode(r.Report))
	}
	assert.Equal(t, []string{"pass none", "pass none", "fail lock-unbound"}, got)
	assert.Equal(t, sha(e.good), results[0].Package.Record.SHA256, "the installer checks against the record in the result")
}

// Every lock format is held to the same rule: a pixi.lock or conda-lock
// entry with only an md5 binds nothing either.
func TestUnboundInEveryLockFormat(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	url := e.pkgURL(e.swapped.Filename)
	md5 := md5hex(e.evil)
	files := map[string]string{
		"pixi.lock": "version: 6\nenvironments:\n  default:\n    channels:\n    - url: " + e.url + "/\n    packages:\n      linux-64:\n      - conda: " + url +
			"\npackages:\n- conda: " + url + "\n  md5: " + md5 + "\n  size: 1\n",
		"conda-lock.yml": "version: 1\nmetadata:\n  content_hash: {}\n  channels: []\n  platforms: [linux-64]\n  sources: []\npackage:\n" +
			"- name: swapped\n  version: '1.0'\n  manager: conda\n  platform: linux-64\n  dependencies: {}\n  url: " + url +
			"\n  hash:\n    md5: " + md5 + "\n  category: main\n  optional: false\n",
		"explicit": "@EXPLICIT\n" + url + "#" + md5 + "\n",
	}
	for name, content := range files {
		path := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		lf, err := lockfile.Read(path)
		require.NoError(t, err, name)
		require.Len(t, lf.Packages, 1, name)
		require.Empty(t, lf.Packages[0].SHA256, name)
		r := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, lf.Packages, condasigs.BatchOptions{})[0]
		require.NoError(t, r.Err, name)
		assert.Equal(t, "fail lock-unbound", firstCode(r.Report), name)
	}
}

// A kept download is installed later, trusted as verified: DownloadDir
// must be private to the user, or the file could be swapped in between.
// In a directory others can write, or another user's, nothing is kept and
// the package stays unbound, saying why.
func TestDownloadDirNotPrivate(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	for _, c := range []struct {
		name, says string
		foreign    bool
		mode       os.FileMode
	}{
		{name: "world-writable", says: "others can write", mode: 0o777},
		{name: "group-writable", says: "others can write", mode: 0o770},
		{name: "another user's", says: "belongs to uid 12345", foreign: true, mode: 0o755},
	} {
		t.Run(c.name, func(t *testing.T) {
			switch runtime.GOOS {
			case "windows", "plan9", "js", "wasip1":
				t.Skip("modes and owners are not inspected here (see fetch.NewDirCache)")
			}
			if c.foreign && os.Geteuid() != 0 {
				t.Skip("making another user's files needs root")
			}
			dir := filepath.Join(t.TempDir(), "downloads")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, c.mode))
			if c.foreign {
				require.NoError(t, os.Chown(dir, 12345, 12345))
			}
			r := e.verifier(t, policy.Policy{}).VerifyLocked(ctx, []lockfile.Package{e.entry(e.honest, "", "")},
				condasigs.BatchOptions{DownloadUnhashed: true, DownloadDir: dir})[0]
			require.NoError(t, r.Err)
			assert.Equal(t, "fail lock-unbound", firstCode(r.Report))
			msg := r.Report.Reasons[0].Message
			assert.Contains(t, msg, "the download directory "+dir+" is not private")
			assert.Contains(t, msg, c.says)
			names, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, names, "nothing written there")
		})
	}
}
