package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trapProxy is an HTTP proxy that answers every request, CONNECT included,
// with 403 and counts them.
func trapProxy(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no network in this test", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &hits
}

// runOffline runs the CLI in a child process whose every http(s) request
// to a host other than loopback goes through proxy, with no user cache.
func runOffline(t *testing.T, proxy string, args ...string) (int, string) {
	t.Helper()
	bin, err := exec.LookPath("condasigs-cli") // TestMain's, see script_test.go
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HTTP_PROXY="+proxy, "HTTPS_PROXY="+proxy, "http_proxy="+proxy, "https_proxy="+proxy,
		"NO_PROXY=", "no_proxy=", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("running condasigs: %v", err)
	return 0, ""
}

// verify --bundle with --trusted-root makes no request: with every request
// sent to a proxy that refuses it, the real package passes and the proxy
// sees nothing, although --channel names an https channel. The control:
// the same package verified from that channel is refused by the proxy.
func TestVerifyBundleNoNetwork(t *testing.T) {
	proxy, hits := trapProxy(t)
	dir := t.TempDir()
	pkg := filepath.Join(dir, pkgName)
	data, err := os.ReadFile(filepath.Join(channelDir(t), "linux-64", pkgName))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pkg, data, 0o644))
	root, err := filepath.Abs(trustedRoot)
	require.NoError(t, err)
	policyArgs := []string{"--trusted-root", root, "--identity", wfSAN, "--issuer", "github", "--channel", upstream}

	for _, bundle := range []string{
		filepath.Join("testdata", pkgName+".bundle.json"),
		filepath.Join(channelDir(t), "linux-64", pkgName+".sigs"),
	} {
		code, out := runOffline(t, proxy, append(append([]string{"verify"}, policyArgs...), "--bundle", bundle, pkg)...)
		assert.Equal(t, exitOK, code, out)
		assert.Contains(t, out, "PASS "+pkgName+"  verified")
		assert.Zero(t, hits.Load(), "verify --bundle made a request")
	}

	// --offline reads the TUF cache alone: empty here, it fails, having
	// opened no connection.
	code, out := runOffline(t, proxy, "verify", "--offline", "--identity", wfSAN, "--issuer", "github", "--channel", upstream,
		"--bundle", filepath.Join("testdata", pkgName+".bundle.json"), pkg)
	assert.Equal(t, exitProblem, code, out)
	assert.Contains(t, out, "--offline: no usable trusted root")
	assert.Zero(t, hits.Load(), "verify --bundle --offline made a request")

	// The control: the proxy does catch a request of this process.
	code, out = runOffline(t, proxy, append(append([]string{"verify"}, policyArgs...),
		"--timeout", (20*time.Second).String(), upstream+"/linux-64/"+pkgName)...)
	assert.NotEqual(t, exitOK, code, out)
	assert.Positive(t, hits.Load(), "the proxy saw no request: the test proves nothing")
	assert.Contains(t, out, "Forbidden", "the request the proxy refused")
}

// The JSON report of verify --bundle, a pass and a failure, matches the
// published schema.
func TestVerifyBundleJSONMatchesSchema(t *testing.T) {
	schema := reportSchema(t)
	pkg := filepath.Join(channelDir(t), "linux-64", pkgName)
	bundle := filepath.Join("testdata", pkgName+".bundle.json")
	for _, extra := range [][]string{{"--channel", upstream}, nil} {
		args := append(verifyArgs("--format", "json", "--bundle", bundle), extra...)
		_, out, errOut := runCLI(t, append(args, pkg)...)
		require.NotEmpty(t, out, errOut)
		requireValid(t, schema, out)
		assert.Contains(t, out, `"subdir": ""`)
	}
}

// verify --bundle takes the trusted root from TUF, the one thing it
// fetches; with --offline, from the TUF cache alone, requesting nothing.
func TestVerifyBundleTUF(t *testing.T) {
	repo, rootFile := publicGoodRepo(t)
	tufArgs := []string{"--tuf-url", repo.URL(), "--tuf-root", rootFile, "--tuf-cache", t.TempDir()}
	args := func(extra ...string) []string {
		a := append([]string{"verify", "--identity", wfSAN, "--issuer", "github", "--channel", upstream,
			"--bundle", filepath.Join("testdata", pkgName+".bundle.json")}, tufArgs...)
		return append(append(a, extra...), filepath.Join(channelDir(t), "linux-64", pkgName))
	}
	code, out, errOut := runCLI(t, args()...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)
	assert.Positive(t, repo.Hits(), "the trusted root came from the TUF repository")

	before := repo.Hits()
	code, out, errOut = runCLI(t, args("--offline")...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "PASS "+pkgName)
	assert.Equal(t, before, repo.Hits(), "--offline requested nothing")
}
