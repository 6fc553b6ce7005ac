package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	pkgName  = "signed-package-2.1.0-hb0f4dca_0.conda"
	upstream = "https://prefix.dev/sigstore-example"
	wfSAN    = "https://github.com/prefix-dev/sigstore-example/*"
	ghIssuer = "https://token.actions.githubusercontent.com"
)

var (
	quickstart  = filepath.Join("..", "..", "examples", "quickstart")
	trustedRoot = filepath.Join(quickstart, "trusted_root.json")
)

func channelDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join(quickstart, "channel"))
	require.NoError(t, err)
	return d
}

func fileURL(t *testing.T) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(channelDir(t))}).String() + "/linux-64/" + pkgName
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func verifyArgs(extra ...string) []string {
	return append([]string{"verify", "--trusted-root", trustedRoot, "--identity", wfSAN, "--issuer", ghIssuer}, extra...)
}

func TestVerifyPass(t *testing.T) {
	code, out, errOut := runCLI(t, verifyArgs("--channel", upstream, fileURL(t))...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName+"  verified  signer https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main (issuer "+ghIssuer+")")
}

func TestVerifyChannelMismatch(t *testing.T) {
	code, out, _ := runCLI(t, verifyArgs(fileURL(t))...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "FAIL "+pkgName)
	assert.Contains(t, out, "[target-channel-mismatch]")
	assert.Contains(t, out, "--channel-mismatch warn")

	code, out, _ = runCLI(t, verifyArgs("--channel-mismatch", "warn", fileURL(t))...)
	assert.Equal(t, exitOK, code, "warnings pass")
	assert.Contains(t, out, "WARN "+pkgName)
}

func TestVerifyWrongIdentity(t *testing.T) {
	code, out, _ := runCLI(t, "verify", "--trusted-root", trustedRoot, "--channel", upstream,
		"--identity", "https://github.com/prefix-dev/other/*", "--issuer", ghIssuer, fileURL(t))
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "[untrusted-identity]")

	code, out, _ = runCLI(t, "verify", "--trusted-root", trustedRoot, "--channel", upstream,
		"--identity", wfSAN, "--issuer", "https://gitlab.com", fileURL(t))
	assert.Equal(t, exitFail, code, "the issuer is pinned")
	assert.Contains(t, out, "[untrusted-identity]")
}

func TestVerifyJSON(t *testing.T) {
	code, out, _ := runCLI(t, verifyArgs("--channel", upstream, "--format", "json", fileURL(t))...)
	require.Equal(t, exitOK, code)
	var doc struct {
		Version  int `json:"version"`
		Packages []struct {
			Filename string `json:"filename"`
			Outcome  string `json:"outcome"`
			Status   string `json:"status"`
			Reasons  []any  `json:"reasons"`
			Bundles  []struct {
				Verified bool   `json:"verified"`
				Code     string `json:"code"`
				SAN      string `json:"san"`
				Issuer   string `json:"issuer"`
			} `json:"bundles"`
		} `json:"packages"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, 1, doc.Version)
	require.Len(t, doc.Packages, 1)
	p := doc.Packages[0]
	assert.Equal(t, pkgName, p.Filename)
	assert.Equal(t, "pass", p.Outcome)
	assert.Equal(t, "verified", p.Status)
	assert.NotNil(t, p.Reasons)
	require.Len(t, p.Bundles, 1)
	assert.True(t, p.Bundles[0].Verified)
	assert.Equal(t, ghIssuer, p.Bundles[0].Issuer)
	assert.Contains(t, p.Bundles[0].SAN, "https://github.com/prefix-dev/sigstore-example/")
}

func TestVerifyArtifact(t *testing.T) {
	good := filepath.Join(channelDir(t), "linux-64", pkgName)
	code, out, _ := runCLI(t, verifyArgs("--channel", upstream, "--artifact", good, fileURL(t))...)
	assert.Equal(t, exitOK, code, out)

	data, err := os.ReadFile(good)
	require.NoError(t, err)
	data[len(data)-1] ^= 1
	bad := filepath.Join(t.TempDir(), pkgName)
	require.NoError(t, os.WriteFile(bad, data, 0o644))
	code, out, _ = runCLI(t, verifyArgs("--channel", upstream, "--artifact", bad, fileURL(t))...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "[artifact-mismatch]")

	code, _, errOut := runCLI(t, verifyArgs("--artifact", filepath.Join(t.TempDir(), "other.conda"), fileURL(t))...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "no PACKAGE-URL ends in other.conda")

	// A second file of the same name never replaces the first, which would
	// then go unchecked: whatever the order, the run is refused.
	for _, order := range [][]string{{bad, good}, {good, bad}, {good, good}} {
		code, out, errOut = runCLI(t, verifyArgs("--channel", upstream, "--artifact", order[0], "--artifact", order[1], fileURL(t))...)
		assert.Equal(t, exitProblem, code, out)
		assert.Contains(t, errOut, "have the same file name")
	}
}

func TestVerifyRepodataFlagAndMissingRecord(t *testing.T) {
	rd := filepath.Join(channelDir(t), "linux-64", "repodata.json")
	code, out, _ := runCLI(t, verifyArgs("--channel", upstream, "--repodata", rd, fileURL(t))...)
	assert.Equal(t, exitOK, code, out)

	missing := strings.Replace(fileURL(t), pkgName, "absent-1.0-0.conda", 1)
	code, out, _ = runCLI(t, verifyArgs("--channel", upstream, fileURL(t), missing)...)
	assert.Equal(t, exitFail, code, "one failing package fails the run")
	assert.Contains(t, out, "PASS "+pkgName)
	assert.Contains(t, out, "FAIL absent-1.0-0.conda")
	assert.Contains(t, out, `does not list "absent-1.0-0.conda" [record-unavailable]`)
}

// TestVerifyOverHTTPRedactsCredentials serves the channel on loopback behind
// a token path segment, basic auth and a query token; no secret may appear
// in any output.
func TestVerifyOverHTTPRedactsCredentials(t *testing.T) {
	files := http.FileServer(http.Dir(channelDir(t)))
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path+"?"+r.URL.RawQuery)
		if r.URL.Query().Get("token") != "QSECRET" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/t/TSECRET")
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	pkgURL := "http://user:PSECRET@" + u.Host + "/t/TSECRET/linux-64/" + pkgName + "?token=QSECRET"

	for _, format := range []string{"text", "json"} {
		code, out, errOut := runCLI(t, verifyArgs("-v", "--format", format, "--channel", upstream, pkgURL)...)
		assert.Equal(t, exitOK, code, out+errOut)
		for _, secret := range []string{"PSECRET", "TSECRET", "QSECRET"} {
			assert.NotContains(t, out+errOut, secret)
		}
	}
	assert.Contains(t, requests, "/t/TSECRET/linux-64/"+pkgName+".sigs.50d02de145d1f71b12cde241a6ba1dba68b9f7ff32eba233e89345927beded69?token=QSECRET",
		"the content-addressed URL keeps the query string")

	// A failure path prints URLs too: a 404 on the sidecar.
	missingURL := strings.Replace(pkgURL, "token=QSECRET", "token=WRONGQSECRET", 1)
	code, out, errOut := runCLI(t, verifyArgs("-v", "--channel", upstream, missingURL)...)
	assert.Equal(t, exitFail, code)
	assert.NotContains(t, out+errOut, "SECRET")
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no URL", []string{"verify", "--identity", "x", "--issuer", "y"}, "needs at least one PACKAGE-URL"},
		{"no identity", []string{"verify", "--trusted-root", trustedRoot, "file:///c/linux-64/x-1-0.conda"}, "at least one --identity"},
		{"unpaired", []string{"verify", "--trusted-root", trustedRoot, "--identity", "a", "--identity", "b", "--issuer", "c", "file:///c/linux-64/x-1-0.conda"}, "come in pairs"},
		{"bad require", verifyArgs("--require", "always", "file:///c/linux-64/x-1-0.conda"), `--require "always": give error, warn or ignore`},
		{"bad channel-mismatch", verifyArgs("--channel-mismatch", "no", "file:///c/linux-64/x-1-0.conda"), "--channel-mismatch"},
		{"bad format", verifyArgs("--format", "xml", "file:///c/linux-64/x-1-0.conda"), "--format"},
		{"bad URL", verifyArgs("ftp://h/c/linux-64/x-1-0.conda"), "unsupported URL scheme"},
		{"missing trusted root", []string{"verify", "--trusted-root", "/nonexistent/trusted_root.json", "--identity", "a", "--issuer", "github", "file:///c/linux-64/x-1-0.conda"}, "trusted root"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.args...)
			assert.Equal(t, exitProblem, code)
			assert.Contains(t, errOut, c.msg)
		})
	}
}

// TestVerifyAmbiguousRepodata: repodata that parsers read differently (a
// case-variant sha256 beside the real key, a filename listed twice) fails
// the package instead of being verified against one reading of it.
func TestVerifyAmbiguousRepodata(t *testing.T) {
	rd, err := os.ReadFile(filepath.Join(channelDir(t), "linux-64", "repodata.json"))
	require.NoError(t, err)
	var doc struct {
		Conda map[string]map[string]any `json:"packages.conda"`
	}
	require.NoError(t, json.Unmarshal(rd, &doc))
	rec := doc.Conda[pkgName]
	recJSON, err := json.Marshal(rec)
	require.NoError(t, err)

	variants := map[string]string{
		// The installer (Python, serde) reads "sha256"; Go's case-insensitive
		// struct decoding would read "SHA256" last.
		"case variant": `{"packages.conda": {"` + pkgName + `": ` + strings.Replace(string(recJSON), `"sha256":`, `"sha256":"`+strings.Repeat("0", 64)+`","SHA256":`, 1) + `}}`,
		"listed twice": `{"packages.conda": {"` + pkgName + `": ` + string(recJSON) + `, "` + pkgName + `": ` + string(recJSON) + `}}`,
	}
	for name, content := range variants {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "repodata.json")
			require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
			code, out, _ := runCLI(t, verifyArgs("--channel", upstream, "--repodata", p, fileURL(t))...)
			assert.Equal(t, exitFail, code, out)
			assert.Contains(t, out, "[record-unavailable]")
		})
	}
}
