package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/internal/tufrepo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFixture copies a fixtures file into a temporary directory.
func writeFixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(name))
	require.NoError(t, os.WriteFile(p, fixtures.Read(name), 0o644))
	return p
}

// publicGoodRepo serves the public-good trusted root from a loopback TUF
// repository and returns it with its root.json written to a file.
func publicGoodRepo(t *testing.T) (*tufrepo.Repo, string) {
	t.Helper()
	return repoServing(t, fixtures.PublicGoodRootFile)
}

// repoServing is a loopback TUF repository whose target is the fixture
// trusted root name, and its root.json in a file.
func repoServing(t *testing.T, name string) (*tufrepo.Repo, string) {
	t.Helper()
	repo := tufrepo.New(t, fixtures.Read(name))
	rootFile := filepath.Join(t.TempDir(), "root.json")
	require.NoError(t, os.WriteFile(rootFile, repo.Root(), 0o644))
	return repo, rootFile
}

// quickstartArgs verifies the quickstart package with the trust flags.
func quickstartArgs(t *testing.T, trust ...string) []string {
	args := append([]string{"verify", "--identity", wfSAN, "--issuer", ghIssuer, "--channel", upstream}, trust...)
	return append(args, fileURL(t))
}

type showDoc struct {
	Version int `json:"version"`
	Info    struct {
		Kind      string    `json:"kind"`
		Source    string    `json:"source"`
		LoadedAt  time.Time `json:"loadedAt"`
		FromCache bool      `json:"fromCache"`
		Expires   time.Time `json:"expires"`
	} `json:"info"`
	UpdateError string `json:"updateError"`
	Roots       []struct {
		Source    string `json:"source"`
		FulcioCAs []struct {
			URI        string    `json:"uri"`
			Subject    string    `json:"subject"`
			ValidFrom  time.Time `json:"validFrom"`
			ValidUntil time.Time `json:"validUntil"`
		} `json:"fulcioCertificateAuthorities"`
		RekorLogs []struct {
			BaseURL   string    `json:"baseURL"`
			LogID     string    `json:"logID"`
			ValidFrom time.Time `json:"validFrom"`
		} `json:"rekorLogs"`
		CTLogCount int `json:"ctLogCount"`
		TSAs       []struct {
			URI string `json:"uri"`
		} `json:"timestampAuthorities"`
	} `json:"roots"`
}

func showJSON(t *testing.T, args ...string) showDoc {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"trust-root", "show", "--format", "json"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	var doc showDoc
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	return doc
}

// TestTUFCustomRepository: a private instance's TUF repository given by
// URL and root.json verifies the quickstart package; then --offline with
// the same cache works without a single request; show and export read it.
func TestTUFCustomRepository(t *testing.T) {
	repo, rootFile := publicGoodRepo(t)
	cache := t.TempDir()
	tufArgs := []string{"--tuf-url", repo.URL(), "--tuf-root", rootFile, "--tuf-cache", cache}

	code, out, errOut := runCLI(t, quickstartArgs(t, tufArgs...)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)
	assert.Positive(t, repo.Hits(), "the root came from the repository")

	before := repo.Hits()
	offline := append(tufArgs, "--offline")
	code, out, errOut = runCLI(t, quickstartArgs(t, offline...)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)

	doc := showJSON(t, offline...)
	assert.Equal(t, before, repo.Hits(), "offline opens no connection")
	assert.Equal(t, 1, doc.Version)
	assert.Equal(t, "tuf", doc.Info.Kind)
	assert.Equal(t, repo.URL(), doc.Info.Source)
	assert.True(t, doc.Info.FromCache)
	assert.True(t, doc.Info.Expires.After(time.Now()), "the TUF timestamp's expiry is shown")
	assert.WithinDuration(t, time.Now(), doc.Info.LoadedAt, time.Minute, "the cache's last update")
	require.Len(t, doc.Roots, 1)
	assert.Len(t, doc.Roots[0].FulcioCAs, 2)

	code, out, errOut = runCLI(t, append([]string{"trust-root", "show"}, tufArgs...)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "trusted root: tuf "+repo.URL()+"\n")
	assert.Contains(t, out, "TUF metadata expires ")
	assert.NotContains(t, out, "from the TUF cache", "online, the root was updated")

	// Export from the cache, then verify with the file alone.
	exported := filepath.Join(t.TempDir(), "trusted_root.json")
	before = repo.Hits()
	code, _, errOut = runCLI(t, append([]string{"trust-root", "export", exported}, offline...)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "wrote "+exported)
	assert.Equal(t, before, repo.Hits())
	code, out, errOut = runCLI(t, quickstartArgs(t, "--trusted-root", exported)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)
}

// TestOfflineEmptyCache: --offline with nothing cached fails at once with
// exit status 2, a message that says what to do, and no request.
func TestOfflineEmptyCache(t *testing.T) {
	repo, rootFile := publicGoodRepo(t)
	for name, cache := range map[string]string{"empty": t.TempDir(), "missing": filepath.Join(t.TempDir(), "absent")} {
		t.Run(name, func(t *testing.T) {
			tufArgs := []string{"--offline", "--tuf-url", repo.URL(), "--tuf-root", rootFile, "--tuf-cache", cache}
			for _, args := range [][]string{
				quickstartArgs(t, tufArgs...),
				append([]string{"trust-root", "show"}, tufArgs...),
				append([]string{"trust-root", "export", filepath.Join(t.TempDir(), "out.json")}, tufArgs...),
			} {
				start := time.Now()
				code, out, errOut := runCLI(t, args...)
				assert.Equal(t, exitProblem, code, out+errOut)
				assert.Less(t, time.Since(start), 5*time.Second)
				assert.Contains(t, errOut, "--offline: no usable trusted root of "+repo.URL()+" in the TUF cache "+cache)
				assert.Contains(t, errOut, "--trusted-root FILE")
				assert.Empty(t, out)
			}
			assert.Zero(t, repo.Hits(), "offline opens no connection")
		})
	}
}

// TestOfflineBuiltInRepositories: the public-good and staging repositories
// need no --tuf-root, and offline with an empty cache never reaches them.
func TestOfflineBuiltInRepositories(t *testing.T) {
	cases := map[string]struct {
		flags []string
		url   string
	}{
		"default":                 {nil, "https://tuf-repo-cdn.sigstore.dev"},
		"public-good by URL":      {[]string{"--tuf-url", "https://tuf-repo-cdn.sigstore.dev/"}, "https://tuf-repo-cdn.sigstore.dev"},
		"staging":                 {[]string{"--staging"}, "https://tuf-repo-cdn.sigstage.dev"},
		"staging by URL":          {[]string{"--tuf-url", "https://tuf-repo-cdn.sigstage.dev"}, "https://tuf-repo-cdn.sigstage.dev"},
		"staging with tuf-root":   {[]string{"--staging", "--tuf-root", writeFixture(t, "data/staging.tuf-root.json")}, "https://tuf-repo-cdn.sigstage.dev"},
		"public-good with a root": {[]string{"--tuf-root", writeFixture(t, "data/public-good.tuf-root.json")}, "https://tuf-repo-cdn.sigstore.dev"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			code, _, errOut := runCLI(t, append([]string{"trust-root", "show", "--offline", "--tuf-cache", t.TempDir()}, c.flags...)...)
			assert.Equal(t, exitProblem, code)
			assert.Contains(t, errOut, "no usable trusted root of "+c.url+" ")
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// TestTUFInitialLoadTimeout: a repository that never answers is cut off by
// --timeout.
func TestTUFInitialLoadTimeout(t *testing.T) {
	_, rootFile := publicGoodRepo(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-r.Context().Done()
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	start := time.Now()
	code, _, errOut := runCLI(t, "trust-root", "show", "--timeout", "500ms",
		"--tuf-url", srv.URL, "--tuf-root", rootFile, "--tuf-cache", t.TempDir())
	assert.Equal(t, exitProblem, code)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Positive(t, hits.Load())
	assert.Contains(t, errOut, "trustroot: TUF update from")
	assert.Contains(t, errOut, "--timeout 500ms")
}

// TestTrustRootShowFiles summarizes trusted_root.json files.
func TestTrustRootShowFiles(t *testing.T) {
	pg := writeFixture(t, fixtures.PublicGoodRootFile)
	doc := showJSON(t, "--trusted-root", pg)
	assert.Equal(t, "file", doc.Info.Kind)
	assert.Equal(t, pg, doc.Info.Source)
	assert.False(t, doc.Info.FromCache)
	assert.True(t, doc.Info.Expires.IsZero(), "a file has no TUF expiry")
	require.Len(t, doc.Roots, 1)
	r := doc.Roots[0]
	assert.Equal(t, pg, r.Source)
	require.Len(t, r.FulcioCAs, 2)
	for _, ca := range r.FulcioCAs {
		assert.Equal(t, "https://fulcio.sigstore.dev", ca.URI)
		assert.Contains(t, ca.Subject, "sigstore")
		assert.False(t, ca.ValidFrom.IsZero())
	}
	assert.False(t, r.FulcioCAs[0].ValidUntil.IsZero(), "the first CA was retired")
	require.Len(t, r.RekorLogs, 2)
	assert.Equal(t, "https://rekor.sigstore.dev", r.RekorLogs[0].BaseURL, "sorted by validity start")
	assert.Equal(t, "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d", r.RekorLogs[0].LogID)
	assert.Equal(t, "https://log2025-1.rekor.sigstore.dev", r.RekorLogs[1].BaseURL)
	assert.Equal(t, 2, r.CTLogCount)
	require.Len(t, r.TSAs, 1)
	assert.Equal(t, "https://timestamp.sigstore.dev/api/v1/timestamp", r.TSAs[0].URI)

	code, out, errOut := runCLI(t, "trust-root", "show", "--trusted-root", pg)
	require.Equal(t, exitOK, code, errOut)
	for _, want := range []string{
		"trusted root: file " + pg + "\n",
		"Fulcio certificate authorities: 2\n",
		"https://fulcio.sigstore.dev  valid 2021-03-07T03:20:29Z to 2022-12-31T23:59:59Z",
		"Rekor transparency logs: 2\n",
		"https://rekor.sigstore.dev  log ID c0d23d6a",
		"CT logs: 2\n",
		"Timestamp authorities: 1\n",
	} {
		assert.Contains(t, out, want)
	}

	// Several instances stay apart.
	st := writeFixture(t, fixtures.StagingRootFile)
	doc = showJSON(t, "--trusted-root", pg, "--trusted-root", st)
	require.Len(t, doc.Roots, 2)
	assert.Equal(t, pg, doc.Roots[0].Source)
	assert.Equal(t, st, doc.Roots[1].Source)
	assert.Equal(t, "https://fulcio.sigstore.dev", doc.Roots[0].FulcioCAs[0].URI)
	assert.Equal(t, "https://fulcio.sigstage.dev", doc.Roots[1].FulcioCAs[0].URI)
	code, out, _ = runCLI(t, "trust-root", "show", "--trusted-root", pg, "--trusted-root", st)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "root 1 of 2: "+pg)
	assert.Contains(t, out, "root 2 of 2: "+st)
}

// TestTrustRootExportRoundTrip: an exported file holds the same material,
// loads with --trusted-root and verifies the quickstart package.
func TestTrustRootExportRoundTrip(t *testing.T) {
	for _, name := range []string{fixtures.PublicGoodRootFile, fixtures.StagingRootFile} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src := writeFixture(t, name)
			dir := t.TempDir()
			exported := filepath.Join(dir, "trusted_root.json")
			require.NoError(t, os.WriteFile(exported, []byte("old content"), 0o644))
			code, _, errOut := runCLI(t, "trust-root", "export", exported, "--trusted-root", src)
			require.Equal(t, exitOK, code, errOut)

			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "the temporary file is gone")
			b, err := os.ReadFile(exported)
			require.NoError(t, err)
			assert.True(t, json.Valid(b))
			assert.True(t, strings.HasSuffix(string(b), "}\n"))

			orig, again := showJSON(t, "--trusted-root", src), showJSON(t, "--trusted-root", exported)
			orig.Roots[0].Source, again.Roots[0].Source = "", ""
			assert.Equal(t, orig.Roots, again.Roots, "the same material")

			code, out, _ := runCLI(t, "trust-root", "export", "-", "--trusted-root", src)
			require.Equal(t, exitOK, code)
			assert.Equal(t, string(b), out, "- writes stdout; the same root exports to the same bytes")
		})
	}

	exported := filepath.Join(t.TempDir(), "trusted_root.json")
	code, _, errOut := runCLI(t, "trust-root", "export", exported, "--trusted-root", trustedRoot)
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := runCLI(t, quickstartArgs(t, "--trusted-root", exported)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)
}

// TestTrustRootExportRefusesSeveral: several roots are separate instances,
// not one file.
func TestTrustRootExportRefusesSeveral(t *testing.T) {
	out := filepath.Join(t.TempDir(), "trusted_root.json")
	code, _, errOut := runCLI(t, "trust-root", "export", out,
		"--trusted-root", writeFixture(t, fixtures.PublicGoodRootFile), "--trusted-root", writeFixture(t, fixtures.StagingRootFile))
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "2 --trusted-root files were given")
	assert.NoFileExists(t, out)

	code, _, errOut = runCLI(t, "trust-root", "export", filepath.Join(t.TempDir(), "absent", "x.json"), "--trusted-root", trustedRoot)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "writing the trusted root")
}

// TestRootAgeFlags: the age flags reach the verifier. The cache's last
// update is moved ten days back.
func TestRootAgeFlags(t *testing.T) {
	repo, rootFile := publicGoodRepo(t)
	cache := t.TempDir()
	tufArgs := []string{"--tuf-url", repo.URL(), "--tuf-root", rootFile, "--tuf-cache", cache, "--offline"}
	code, _, errOut := runCLI(t, "trust-root", "show", "--tuf-url", repo.URL(), "--tuf-root", rootFile, "--tuf-cache", cache)
	require.Equal(t, exitOK, code, errOut)
	hits := repo.Hits()
	recs, err := filepath.Glob(filepath.Join(cache, "*", "state", "update.json"))
	require.NoError(t, err)
	require.Len(t, recs, 1, "one repository, one cache directory")
	rec := recs[0]
	b, err := os.ReadFile(rec)
	require.NoError(t, err)
	var r map[string]any
	require.NoError(t, json.Unmarshal(b, &r))
	r["updated"] = time.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339)
	b, err = json.Marshal(r)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(rec, b, 0o600))

	code, out, errOut := runCLI(t, quickstartArgs(t, tufArgs...)...)
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "WARN "+pkgName, "the default warning age is 7 days")
	assert.Contains(t, out, "[trust-root-stale]")

	for _, flags := range [][]string{{"--root-warn-age", "off"}, {"--root-warn-age", "11d"}, {"--root-warn-age", "264h"}, {"--root-warn-age", "10d1h", "--root-max-age", "30d"}} {
		code, out, errOut = runCLI(t, quickstartArgs(t, append(tufArgs, flags...)...)...)
		assert.Equal(t, exitOK, code, out+errOut)
		assert.Contains(t, out, "PASS "+pkgName, flags)
	}

	code, out, errOut = runCLI(t, quickstartArgs(t, append(tufArgs, "--root-max-age", "9d")...)...)
	assert.Equal(t, exitProblem, code, out)
	assert.Contains(t, errOut, "stale")
	assert.Equal(t, hits, repo.Hits(), "offline opens no connection")

	code, _, errOut = runCLI(t, verifyArgs("--root-warn-age", "1d", "--channel", upstream, fileURL(t))...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut, "a --trusted-root file has no known age")
}

func TestTrustFlagUsageErrors(t *testing.T) {
	tr := []string{"--trusted-root", trustedRoot}
	policyArgs := []string{"verify", "--identity", wfSAN, "--issuer", ghIssuer}
	const url = "file:///c/linux-64/x-1-0.conda"
	v := func(flags ...string) []string {
		return append(append(append([]string{}, policyArgs...), flags...), url)
	}
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"custom URL without root", v("--tuf-url", "https://tuf.example.com"), "--tuf-url https://tuf.example.com is not the public-good or staging repository: give its initial root.json with --tuf-root FILE"},
		{"show: custom URL without root", []string{"trust-root", "show", "--tuf-url", "https://tuf.example.com"}, "--tuf-root FILE"},
		{"export: custom URL without root", []string{"trust-root", "export", "x.json", "--tuf-url", "https://tuf.example.com"}, "--tuf-root FILE"},
		{"pin: custom URL without root", []string{"pin", "--pins", "p.json", "--identity", wfSAN, "--issuer", ghIssuer, "--tuf-url", "https://tuf.example.com", url}, "--tuf-root FILE"},
		{"trusted-root and tuf-url", v(append(tr, "--tuf-url", "https://tuf.example.com", "--tuf-root", "r.json")...), "--trusted-root cannot be combined with --tuf-url"},
		{"trusted-root and offline", v(append(tr, "--offline")...), "--trusted-root cannot be combined with --offline"},
		{"trusted-root and staging", v(append(tr, "--staging")...), "--trusted-root cannot be combined with --staging"},
		{"trusted-root and tuf-cache", v(append(tr, "--tuf-cache", "d")...), "--trusted-root cannot be combined with --tuf-cache"},
		{"show: trusted-root and tuf-root", []string{"trust-root", "show", "--trusted-root", trustedRoot, "--tuf-root", "r.json"}, "--trusted-root cannot be combined with --tuf-root"},
		{"staging and tuf-url", v("--staging", "--tuf-url", "https://tuf.example.com", "--tuf-root", "r.json"), "give one"},
		{"tuf-url scheme", v("--tuf-url", "ftp://tuf.example.com", "--tuf-root", "r.json"), "want the http(s) base URL"},
		{"tuf-url without host", v("--tuf-url", "https://", "--tuf-root", "r.json"), "want the http(s) base URL"},
		{"missing tuf-root file", v("--offline", "--tuf-url", "https://tuf.example.com", "--tuf-root", "/nonexistent/root.json"), "--tuf-root: open /nonexistent/root.json"},
		{"bad warn age", v(append(tr, "--root-warn-age", "7x")...), `invalid argument "7x" for "--root-warn-age"`},
		{"negative max age", v(append(tr, "--root-max-age", "-1h")...), "want a positive duration, or off"},
		{"zero max age", v(append(tr, "--root-max-age", "0")...), "want a positive duration, or off"},
		{"days typo", v(append(tr, "--root-max-age", "7days")...), "not a duration"},
		{"warn past max", v(append(tr, "--root-warn-age", "30d", "--root-max-age", "7d")...), "--root-warn-age 720h0m0s is longer than --root-max-age 168h0m0s"},
		{"bad timeout", []string{"trust-root", "show", "--trusted-root", trustedRoot, "--timeout", "0s"}, "--timeout must be positive"},
		{"trust-root alone", []string{"trust-root"}, "needs a subcommand: show or export"},
		{"trust-root unknown", []string{"trust-root", "frob"}, `unknown command "frob"`},
		{"show format", []string{"trust-root", "show", "--trusted-root", trustedRoot, "--format", "xml"}, "--format must be text or json"},
		{"export without file", []string{"trust-root", "export", "--trusted-root", trustedRoot}, "export needs one FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := runCLI(t, c.args...)
			assert.Equal(t, exitProblem, code, out)
			assert.Contains(t, errOut, c.msg)
			assert.Less(t, time.Since(start), 5*time.Second, "no network")
		})
	}
}

func TestParseAge(t *testing.T) {
	good := map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "36h": 36 * time.Hour, "1.5d": 36 * time.Hour,
		"90m": 90 * time.Minute, "off": -1, " 2d ": 48 * time.Hour, "0d1s": time.Second,
	}
	for s, want := range good {
		got, err := parseAge(s)
		if assert.NoError(t, err, s) {
			assert.Equal(t, want, got, s)
		}
	}
	for _, s := range []string{"", "0", "0d", "-7d", "7", "d", "7d-1h", "7days", "1e9d", "1000000h", "yes"} {
		_, err := parseAge(s)
		assert.Error(t, err, s)
	}
}

// TestAddTrustedRoot: the TUF root names another instance (staging); the
// public-good package verifies only with that instance added.
func TestAddTrustedRoot(t *testing.T) {
	repo, rootFile := repoServing(t, fixtures.StagingRootFile)
	tufArgs := []string{"--tuf-url", repo.URL(), "--tuf-root", rootFile, "--tuf-cache", t.TempDir()}
	code, _, _ := runCLI(t, quickstartArgs(t, tufArgs...)...)
	assert.Equal(t, exitFail, code, "the staging root alone cannot verify a public-good bundle")

	added := append(tufArgs, "--add-trusted-root", trustedRoot)
	code, out, errOut := runCLI(t, quickstartArgs(t, added...)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)

	code, _, errOut = runCLI(t, quickstartArgs(t, "--trusted-root", trustedRoot, "--add-trusted-root", trustedRoot)...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "repeat --trusted-root instead")
}
