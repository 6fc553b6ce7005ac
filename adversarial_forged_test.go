package condasigs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// forgedCase is an attempt to make a package pass that must not: the
// bytes that would be installed are not the ones the trusted signer
// attested, or the channel's word stands in for the attestation's.
type forgedCase struct {
	name string
	// verify runs the attempt under a require mode.
	verify func(t *testing.T, mode policy.Mode) *condasigs.Report
	// codes are the report's first reason codes under require: error.
	codes []string
}

// TestAdversarialForgedPasses is the corpus of forged passes the attack
// reviews found: none may pass under any require mode; under require:
// error each fails with its exact leading codes and names no signer.
func TestAdversarialForgedPasses(t *testing.T) {
	ctx := context.Background()
	e := newBindingEnv(t)
	locked := func(entry lockfile.Package, opts condasigs.BatchOptions) func(*testing.T, policy.Mode) *condasigs.Report {
		return func(t *testing.T, mode policy.Mode) *condasigs.Report {
			r := e.verifier(t, policy.Policy{Require: mode}).VerifyLocked(ctx, []lockfile.Package{entry}, opts)[0]
			require.NoError(t, r.Err)
			return r.Report
		}
	}
	edited := func(filename string, edit func(*fetch.Record)) func(*testing.T, policy.Mode) *condasigs.Report {
		rec := e.ch.Add(t, condasigstest.Package{Filename: filename, Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: e.url,
			EditRecord: edit})
		return func(t *testing.T, mode policy.Mode) *condasigs.Report {
			rep, err := e.verifier(t, policy.Policy{Require: mode}).Verify(ctx, e.pkg(rec))
			require.NoError(t, err)
			return rep
		}
	}
	download := condasigs.BatchOptions{DownloadUnhashed: true}
	cases := []forgedCase{
		{"lock: hashless line, swapped bytes", locked(e.entry(e.swapped, "", ""), condasigs.BatchOptions{}), []string{"lock-unbound"}},
		{"lock: md5 line of the swapped bytes", locked(e.entry(e.swapped, "", md5hex(e.evil)), condasigs.BatchOptions{}), []string{"lock-unbound"}},
		{"lock: sha256 line of the swapped bytes", locked(e.entry(e.swapped, sha(e.evil), ""), condasigs.BatchOptions{}), []string{"lock-mismatch"}},
		{"lock: hashless line, downloaded", locked(e.entry(e.swapped, "", ""), download), []string{"artifact-mismatch"}},
		{"lock: md5 line, downloaded", locked(e.entry(e.swapped, "", md5hex(e.evil)), download), []string{"artifact-mismatch"}},
		{"lock: md5 line that is not the record's", locked(e.entry(e.swapped, "", md5hex(e.good)), download), []string{"lock-mismatch"}},
		{"lock: conda-lock entry, installed by md5", locked(lockfile.Package{URL: e.pkgURL(e.swapped.Filename), SHA256: sha(e.good), MD5: md5hex(e.evil),
			Format: lockfile.FormatCondaLock}, condasigs.BatchOptions{}), []string{"lock-unbound"}},
		{"lock: conda-lock entry, downloaded", locked(lockfile.Package{URL: e.pkgURL(e.swapped.Filename), SHA256: sha(e.good), MD5: md5hex(e.evil),
			Format: lockfile.FormatCondaLock}, download), []string{"artifact-mismatch"}},
		{"record: name in other case", edited("numpy-2.2-0.conda", func(r *fetch.Record) { r.Name = "NumPy" }), []string{"record-inconsistent"}},
		{"record: name with a suffix", edited("scipy-2.2-0.conda", func(r *fetch.Record) { r.Name = "scipy-x" }), []string{"record-inconsistent"}},
		{"record: another package's name", edited("pandas-2.2-0.conda", func(r *fetch.Record) { r.Name = "numpy" }), []string{"record-inconsistent"}},
		{"record: another platform's file", edited("arrow-2.2-0.conda", func(r *fetch.Record) { r.Subdir = "win-64" }), []string{"record-inconsistent"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := c.verify(t, policy.ModeError)
			assert.Equal(t, policy.Fail, rep.Outcome, "%+v", rep.Reasons)
			require.GreaterOrEqual(t, len(rep.Reasons), len(c.codes))
			assert.Equal(t, c.codes, reasonCodes(rep)[:len(c.codes)], "%+v", rep.Reasons)
			assert.Nil(t, rep.Signer)
			assert.Nil(t, rep.Pinning)
			for _, mode := range []policy.Mode{policy.ModeWarn, policy.ModeIgnore} {
				rep := c.verify(t, mode)
				assert.NotEqual(t, policy.Pass, rep.Outcome, "require %s: %+v", mode, rep.Reasons)
				assert.Contains(t, reasonCodes(rep), c.codes[0], "require %s", mode)
			}
		})
	}
}
