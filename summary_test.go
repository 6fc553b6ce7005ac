package condasigs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/policy"
)

func TestSummarize(t *testing.T) {
	rep := func(o policy.Outcome) condasigs.Result {
		return condasigs.Result{Report: &condasigs.Report{Outcome: o}}
	}
	s := condasigs.Summarize([]condasigs.Result{rep(policy.Pass), rep(policy.Warn), rep(policy.Pass)})
	assert.Equal(t, condasigs.Summary{Total: 3, Passed: 2, Warned: 1}, s)
	assert.False(t, s.Refuse)

	s = condasigs.Summarize([]condasigs.Result{rep(policy.Pass), rep(policy.Fail)})
	assert.Equal(t, 1, s.Failed)
	assert.True(t, s.Refuse)

	// An error refuses the batch as a failure does.
	s = condasigs.Summarize([]condasigs.Result{rep(policy.Pass), {Err: errors.New("canceled")}, {}})
	assert.Equal(t, condasigs.Summary{Total: 3, Passed: 1, Failed: 2, Errors: 2, Refuse: true}, s)
	assert.True(t, s.Refuse)
	assert.False(t, condasigs.Summarize(nil).Refuse)
}

// An ArtifactSHA256 that is no SHA-256 is the caller's mistake, said as
// such, not "this is not the package the channel published".
func TestArtifactSHA256Misuse(t *testing.T) {
	e := newEnv(t)
	rec := e.signed(t, "a-1.0-0.conda", san)
	v := e.verifier(t, policy.Policy{})
	for _, bad := range []string{"abc", strings.Repeat("g", 64), strings.Repeat("a", 63) + "\x10", "sha256:" + rec.SHA256, rec.SHA256 + "0"} {
		p := e.pkg(rec)
		p.ArtifactSHA256 = bad
		_, err := v.Verify(context.Background(), p)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "Package.ArtifactSHA256")
	}
	p := e.pkg(rec)
	p.ArtifactSHA256 = strings.ToUpper(rec.SHA256)
	r, err := v.Verify(context.Background(), p)
	require.NoError(t, err, "upper case hex is a SHA-256")
	assert.Equal(t, policy.Pass, r.Outcome)
}
