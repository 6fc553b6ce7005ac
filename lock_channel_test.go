package condasigs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// BatchOptions.Channel names the channel the locked packages were published
// to when the lock file points at a mirror: attestations for that channel
// pass, and attestations for another fail it.
func TestVerifyLockedChannel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const published = "https://conda.example/published"
	rec := e.ch.Add(t, condasigstest.Package{Filename: "a-1.0-0.conda", Signer: e.ss, Identity: san, Issuer: issuer, TargetChannel: published})
	lock := []lockfile.Package{e.locked(rec)}
	v := e.verifier(t, policy.Policy{})

	r := v.VerifyLocked(ctx, lock, condasigs.BatchOptions{})[0]
	require.NoError(t, r.Err)
	assert.Equal(t, policy.Fail, r.Report.Outcome, "without Channel the mirror's URL is the channel")
	assert.Contains(t, reasonCodes(r.Report), string(policy.CodeTargetChannelMismatch))

	r = v.VerifyLocked(ctx, lock, condasigs.BatchOptions{Channel: published})[0]
	require.NoError(t, r.Err)
	assert.Equal(t, policy.Pass, r.Report.Outcome, "%v", reasonCodes(r.Report))
	assert.Equal(t, published, r.Report.Channel)

	r = v.VerifyLocked(ctx, lock, condasigs.BatchOptions{Channel: "https://conda.example/other"})[0]
	require.NoError(t, r.Err)
	assert.Equal(t, policy.Fail, r.Report.Outcome)
	assert.Contains(t, reasonCodes(r.Report), string(policy.CodeTargetChannelMismatch))
}
