package condasigs_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// A Package without a Record has it read from its channel's repodata,
// once per channel and subdir for the whole batch; a record the channel
// does not list is decided by the require table, as in VerifyLocked.
func TestVerifyAllReadsMissingRecords(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.signed(t, "a-1.0-0.conda", san)
	b := e.signed(t, "b-1.0-0.conda", san)
	pkgs := []condasigs.Package{
		{URL: e.pkgURL(a.Filename)},
		{URL: e.pkgURL(b.Filename)},
		{URL: e.pkgURL("gone-1.0-0.conda")},
	}
	for mode, want := range map[policy.Mode][]string{
		policy.ModeError: {"pass verified", "pass verified", "fail retrieval-failure"},
		policy.ModeWarn:  {"pass verified", "pass verified", "warn retrieval-failure"},
	} {
		before := e.ch.Requests("/linux-64/repodata.json")
		results := e.verifier(t, policy.Policy{Require: mode}).VerifyAll(ctx, pkgs, condasigs.BatchOptions{})
		assert.Equal(t, want, outcomes(results), mode)
		assert.Equal(t, 1, e.ch.Requests("/linux-64/repodata.json")-before, "one read for the subdir")
		assert.Equal(t, a, results[0].Package.Record, "the result carries the record read")
		assert.Equal(t, []string{"record-unavailable"}, reasonCodes(results[2].Report))
		assert.Empty(t, pkgs[0].Record, "the caller's slice is not written")
	}

	// Verify does the same for one package.
	rep, err := e.verifier(t, policy.Policy{}).Verify(ctx, condasigs.Package{URL: e.pkgURL(a.Filename)})
	require.NoError(t, err)
	assert.Equal(t, policy.Pass, rep.Outcome)
}

// The records come from Options.Records when it is set: a package
// manager's own repodata, read by no one else.
func TestVerifyAllRecordSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.signed(t, "a-1.0-0.conda", san)
	src := &stubRecords{recs: map[string]fetch.Record{a.Filename: a}}
	v, err := condasigs.New(condasigs.Options{Trust: trustroot.NewStatic(e.ss.TrustedMaterial(), "virtual"), Policy: policy.Policy{Identities: trusted},
		Fetcher: e.fetcher, Records: src})
	require.NoError(t, err)
	results := v.VerifyAll(ctx, []condasigs.Package{
		{URL: e.pkgURL(a.Filename)}, {URL: e.pkgURL("other-1.0-0.conda")},
	}, condasigs.BatchOptions{})
	assert.Equal(t, []string{"pass verified", "fail retrieval-failure"}, outcomes(results))
	assert.Zero(t, e.ch.Requests("/linux-64/repodata.json"), "the channel's repodata is not read")
	assert.Equal(t, []string{e.url + "/linux-64/repodata.json"}, src.asked)
}

// A disabled channel's packages are reported without reading a record;
// a package given with its record is not read again.
func TestVerifyAllReadsOnlyWhatIsNeeded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.signed(t, "a-1.0-0.conda", san)
	cfg := policy.Config{Channels: []policy.ChannelPolicy{{Channel: e.url, Enabled: false}}}
	results := e.configured(t, cfg, nil, false).VerifyAll(ctx, []condasigs.Package{{URL: e.pkgURL(a.Filename)}}, condasigs.BatchOptions{})
	require.NoError(t, results[0].Err)
	assert.Equal(t, policy.StatusDisabled, results[0].Report.Status)

	results = e.verifier(t, policy.Policy{}).VerifyAll(ctx, []condasigs.Package{e.pkg(a)}, condasigs.BatchOptions{})
	assert.Equal(t, []string{"pass verified"}, outcomes(results))
	assert.Zero(t, e.ch.Requests("/linux-64/repodata.json"))

	// A URL that is no package URL is misuse, reported as the package's
	// error.
	results = e.verifier(t, policy.Policy{}).VerifyAll(ctx, []condasigs.Package{{URL: "ftp://h/c/linux-64/a-1-0.conda"}}, condasigs.BatchOptions{})
	require.Error(t, results[0].Err)
	assert.Nil(t, results[0].Report)
}

type stubRecords struct {
	mu    sync.Mutex
	recs  map[string]fetch.Record
	asked []string
}

func (s *stubRecords) FindRecords(_ context.Context, url string, files []string) (map[string]fetch.Found, error) {
	s.mu.Lock()
	s.asked = append(s.asked, url)
	s.mu.Unlock()
	out := map[string]fetch.Found{}
	for _, f := range files {
		if r, ok := s.recs[f]; ok {
			out[f] = fetch.Found{Record: r}
		} else {
			out[f] = fetch.Found{Err: &fetch.Error{Kind: fetch.KindNotFound, Msg: "not in the stub: " + strings.ToUpper(f)}}
		}
	}
	return out, nil
}
