package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/condasigs/condasigs/internal/version"
)

// Mistyped flags and commands, and missing or extra arguments, exit 2
// with one line that says what is wrong and what to do.
func TestUsageMessages(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--identiy", "x", "u"}, "unknown flag --identiy: did you mean --identity? (condasigs verify --help lists the flags)"},
		{[]string{"verify", "--trusted-roots", "x", "u"}, "did you mean --trusted-root?"},
		{[]string{"verify-env", "--platfrom", "linux-64", "f"}, "did you mean --platform?"},
		{[]string{"trust-root", "show", "--offlin"}, "did you mean --offline? (condasigs trust-root show --help lists the flags)"},
		{[]string{"verify", "--zzz", "u"}, "unknown flag --zzz (condasigs verify --help lists the flags)"},
		{[]string{"verify", "-Q", "u"}, "unknown shorthand flag 'Q' in -Q"},
		{[]string{"verify", "--identity", "x", "--issuer", "y"}, "condasigs verify needs at least one PACKAGE-URL"},
		{[]string{"pin", "--pins", "p.json"}, "condasigs pin needs a lock file, or at least one PACKAGE-URL"},
		{[]string{"verify-env"}, "condasigs verify-env needs one lock file"},
		{[]string{"verify-env", "a.lock", "b.lock"}, "condasigs verify-env takes one lock file (a conda explicit file, a pixi.lock or a conda-lock.yml), but got 2 arguments (a.lock b.lock)"},
		{[]string{"verfy", "u"}, `unknown command "verfy": did you mean verify? (condasigs --help lists the commands)`},
		{[]string{"trust-root", "exprt"}, `unknown command "exprt": did you mean export? (condasigs trust-root --help lists the commands)`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" (condasigs --help lists the commands)`},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		assert.Equal(t, exitProblem, code, "%v", tc.args)
		assert.Empty(t, out, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%v: one line: %q", tc.args, errOut)
	}
}

// The suggestion is a flag near the typo, never any flag.
func TestClosestFlag(t *testing.T) {
	cmd := newVerifyCommand()
	for typo, want := range map[string]string{
		"identiy":      "identity",
		"idnetity":     "identity",
		"isuer":        "issuer",
		"confg":        "config",
		"trusted-root": "trusted-root",
		"pin":          "pin",
		"channel-mis":  "channel-mismatch",
		"x":            "",
		"verbosity":    "",
		"q":            "",
	} {
		assert.Equal(t, want, closestFlag(cmd.Flags(), typo), typo)
	}
}

// --version and version print the versions of condasigs, sigstore-go and
// Go.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := runCLI(t, args...)
		assert.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "condasigs "+version.Version+"\n", args)
		assert.Contains(t, out, "\nsigstore-go ", args)
		assert.Contains(t, out, runtime.Version(), args)
	}
	code, _, errOut := runCLI(t, "version", "extra")
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "takes no arguments")
}

// Messages that say what to do: the issuer an --identity lacks, the
// file:// form of a path, a trusted-root failure said once.
func TestUsageHints(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "noarch", "a-1-0.conda")
	for _, tc := range []struct {
		args    []string
		want    string
		wantNot string
	}{
		{[]string{"verify", "--identity", "x", "https://h/c/noarch/a-1-0.conda"}, "give each --identity the OIDC issuer of its certificates, a URL or a shorthand: github", ""},
		{[]string{"verify", "--trusted-root", trustedRoot, "--identity", "x", "--issuer", "github", pkg}, "for a local file, give its URL: file://" + filepath.ToSlash(pkg), ""},
		{[]string{"verify", "--trusted-root", trustedRoot, "--identity", "x", "--issuer", "github", "--channel", "./chan", "file:///c/noarch/a-1-0.conda"}, "for a local channel, give its URL: file://", ""},
		{[]string{"verify", "--trusted-root", trustedRoot, "--identity", "x", "--issuer", "github", "--channel", "conda-forge", "file:///c/noarch/a-1-0.conda"}, "is not an http, https or file URL", "file://"},
		{[]string{"verify", "--trusted-root", filepath.Join(dir, "absent.json"), "--identity", "x", "--issuer", "github", "https://h/c/noarch/a-1-0.conda"}, "trustroot: reading the trusted root: open ", "trusted root: trustroot:"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		assert.Equal(t, exitProblem, code, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
		if tc.wantNot != "" {
			assert.NotContains(t, errOut, tc.wantNot, "%v", tc.args)
		}
	}
}

// A plain-http channel other than loopback is warned about, once a host,
// with its credentials redacted; loopback (tests, local mirrors) is not.
func TestPlainHTTPWarning(t *testing.T) {
	args := []string{"verify", "--trusted-root", filepath.Join(t.TempDir(), "absent.json"), "--identity", "x", "--issuer", "github"}
	_, _, errOut := runCLI(t, append(args, "http://u:pw@example.invalid/t/tk-1/c/noarch/a-1-0.conda", "http://example.invalid/c/noarch/b-1-0.conda")...)
	assert.Equal(t, 1, strings.Count(errOut, "is plain http"), errOut)
	assert.Contains(t, errOut, "warning: http://example.invalid/t/REDACTED/c/noarch/a-1-0.conda is plain http")
	assert.NotContains(t, errOut, "tk-1")
	assert.NotContains(t, errOut, "pw")
	for _, u := range []string{"http://127.0.0.1:8080/c/noarch/a-1-0.conda", "http://localhost/c/noarch/a-1-0.conda", "http://[::1]/c/noarch/a-1-0.conda", "https://example.invalid/c/noarch/a-1-0.conda"} {
		_, _, errOut := runCLI(t, append(args, u)...)
		assert.NotContains(t, errOut, "plain http", u)
	}
}
