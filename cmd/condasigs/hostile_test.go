package main

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// What a hostile channel, certificate or lock file writes into names and
// identities: line breaks that would start a GitHub Actions workflow
// command and a fake verdict, a CSI sequence that clears the screen, an
// OSC sequence that sets the window title, and a right-to-left override.
// Azure Pipelines reads ##vso[ and ##[ anywhere in a line.
const (
	hostileASCII   = "\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07 ##vso[task.setvariable variable=OK]1 ##[error]x"
	hostile        = hostileASCII + "\u202e"
	hostileEscaped = `\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07 \x23#vso[task.setvariable variable=OK]1 \x23#[error]x\u202e`
	hostileName    = "evil" + hostile + "-1.0-0.conda"
	// An email SAN is an IA5String: ASCII only.
	hostileSAN    = "x" + hostileASCII + "@example.com"
	hostileIssuer = "https://issuer.example/" + hostile
	// The statement's targetChannel, quoted by the target-channel-mismatch
	// reason: a URL, so no ASCII control.
	hostileTarget = "https://other.example/\u202e\u2066\u2028\u0085\u00a0::warning::x"
)

// assertSafeText checks an output meant for a terminal or a CI log: valid
// UTF-8 with no control, format or separator character but its own line
// breaks, and no line that starts a workflow command or a verdict line the
// tool did not write.
func assertSafeText(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("not UTF-8: %q", out)
	}
	for _, r := range out {
		if r != '\n' && textsafe.Unsafe(r) {
			t.Errorf("the output holds %U:\n%q", r, out)
			break
		}
	}
	for _, cmd := range []string{"##vso[", "##["} {
		if strings.Contains(out, cmd) {
			t.Errorf("the output holds an Azure Pipelines command %q:\n%q", cmd, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "::") || strings.HasPrefix(l, "PASS fake") {
			t.Errorf("a line starts a workflow command or a fake verdict: %q\nin:\n%q", line, out)
		}
	}
}

// assertSafeJSON checks a JSON report: safe to print as text, and still
// the hostile name, byte for byte, once decoded.
func assertSafeJSON(t *testing.T, out string) {
	t.Helper()
	assertSafeText(t, out)
	requireValid(t, reportSchema(t), out)
	var doc struct{ Packages []struct{ Filename string } }
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	var names []string
	for _, p := range doc.Packages {
		names = append(names, p.Filename)
	}
	assert.Contains(t, names, hostileName, "JSON keeps the value")
}

// hostileChannel serves, on loopback, a package whose file name is
// hostile, signed by a hostile SAN and issuer, and a package whose
// attestation names a hostile target channel.
func hostileChannel(t *testing.T) (vc virtualChannel, evilURL, targetURL string) {
	t.Helper()
	vc = newVirtualChannel(t, t.TempDir())
	vc.ch.Add(t, condasigstest.Package{Filename: hostileName, Signer: vc.ss, Identity: hostileSAN, Issuer: hostileIssuer})
	vc.ch.Add(t, condasigstest.Package{Filename: "target-1.0-0.conda", Signer: vc.ss, TargetChannel: hostileTarget})
	// The lock file and the command line percent-encode the name.
	return vc, vc.url + "/linux-64/" + url.PathEscape(hostileName), vc.url + "/linux-64/target-1.0-0.conda"
}

func TestHostileTextVerify(t *testing.T) {
	vc, evil, target := hostileChannel(t)
	args := []string{"verify", "--trusted-root", vc.root, "--identity", "https://github.com/example/*", "--issuer", "github", evil, target}
	code, out, errOut := runCLI(t, args...)
	assert.Equal(t, exitFail, code, out+errOut)
	assertSafeText(t, out+errOut)
	// Shown, escaped: the name, the SAN and issuer in the untrusted-identity
	// reason, the target channel in the mismatch reason.
	assert.Contains(t, out, "FAIL evil"+hostileEscaped+"-1.0-0.conda  verification-failure\n")
	assert.Contains(t, out, "signed by x"+strings.TrimSuffix(hostileEscaped, `\u202e`)+"@example.com (issuer https://issuer.example/"+hostileEscaped+")")
	assert.Contains(t, out, `targets channel https://other.example/\u202e\u2066\u2028\u0085\u00a0::warning::x`)

	code, out, errOut = runCLI(t, append(args[:len(args):len(args)], "--format", "json")...)
	assert.Equal(t, exitFail, code, out+errOut)
	assertSafeJSON(t, out)
}

func TestHostileTextVerifyEnv(t *testing.T) {
	vc, evil, target := hostileChannel(t)
	gone := vc.url + "/linux-64/" + url.PathEscape("gone"+hostile+"-1.0-0.conda") // not in the channel: quoted by record-unavailable
	lock := filepath.Join(t.TempDir(), "env.txt")
	var lines []string
	for _, u := range []string{evil, target} {
		name, _ := url.PathUnescape(u[strings.LastIndexByte(u, '/')+1:])
		lines = append(lines, u+"#"+vc.ch.Package(name).Record.SHA256)
	}
	require.NoError(t, os.WriteFile(lock, []byte("@EXPLICIT\n"+strings.Join(lines, "\n")+"\n"+gone+"#"+strings.Repeat("ab", 32)+"\n"), 0o644))

	// The progress bar, drawn on a terminal only, is drawn on stderr here.
	defer func(orig func(io.Writer) *progressBar) { progressBarOn = orig }(progressBarOn)
	progressBarOn = func(w io.Writer) *progressBar { return &progressBar{w: w, width: 400} }

	args := []string{"verify-env", "--trusted-root", vc.root, "--identity", "https://github.com/example/*", "--issuer", "github", "--no-cache", lock}
	code, out, errOut := runCLI(t, args...)
	assert.Equal(t, exitFail, code, out+errOut)
	assertSafeText(t, out)
	bars := strings.Split(errOut, "\r")
	require.Greater(t, len(bars), 3, "one redraw a package and the clearing: %q", errOut)
	for _, b := range bars {
		assertSafeText(t, b)
	}
	assert.Contains(t, errOut, "/3) evil"+hostileEscaped+"-1.0-0.conda")
	assert.Contains(t, out, "FAIL "+lock+":2: evil"+hostileEscaped+"-1.0-0.conda  verification-failure\n")
	// The file name is quoted in Go syntax there (\a for BEL), and escaped.
	assert.Contains(t, out, `does not list "gone`+strings.Replace(hostileEscaped, `\x07`, `\a`, 1)+`-1.0-0.conda"`)
	assert.Contains(t, out, ": 3 packages: 0 passed, 0 warned, 3 failed\n")

	progressBarOn = newProgressBar
	code, out, errOut = runCLI(t, append(args[:len(args)-1:len(args)-1], "--format", "json", lock)...)
	assert.Equal(t, exitFail, code, out+errOut)
	assertSafeJSON(t, out)
}

func TestHostileTextPin(t *testing.T) {
	vc, evil, _ := hostileChannel(t)
	code, out, errOut := runCLI(t, "pin", "--pins", filepath.Join(t.TempDir(), "pins.json"), "--trusted-root", vc.root,
		"--identity", "*", "--issuer", hostileIssuer, evil)
	require.Equal(t, exitOK, code, out+errOut)
	assertSafeText(t, out+errOut)
	assert.Contains(t, errOut, "pinned evil"+hostileEscaped+" on "+vc.url+" to x"+strings.TrimSuffix(hostileEscaped, `\u202e`)+"@example.com (issuer https://issuer.example/"+hostileEscaped+")\n")
	assert.Contains(t, out, "PASS evil"+hostileEscaped+"-1.0-0.conda  verified  signer x")
}

// Errors quote lock files too: what the CLI prints of them is escaped.
func TestHostileTextErrors(t *testing.T) {
	config, _ := envFiles(t)
	bad := filepath.Join(t.TempDir(), "env.txt")
	require.NoError(t, os.WriteFile(bad, []byte("@EXPLICIT\nhttps://example.com/c/linux-64/x-1.0-0.conda#"+hostile+"\n"), 0o644))
	code, out, errOut := runCLI(t, envArgs(config, bad)...)
	assert.Equal(t, exitProblem, code)
	assertSafeText(t, out+errOut)
	assert.Contains(t, errOut, bad+":2:")
}

// trust-root show prints what the trusted material and TUF repositories
// hold (sources, URIs, certificate subjects, update errors): escaped.
func TestHostileTextTrustRootShow(t *testing.T) {
	d := trustSummary{UpdateError: "fetch " + hostile, Roots: []rootSummary{
		{Source: "tuf " + hostile, FulcioCAs: []caSummary{{URI: "https://fulcio/" + hostile, Subject: "CN=" + hostile}},
			RekorLogs: []logSummary{{BaseURL: "https://rekor/" + hostile, LogID: "ab"}}, TSAs: []caSummary{{URI: "https://tsa/" + hostile}}},
		{Source: "file"},
	}}
	d.Info.Source = "https://tuf/" + hostile
	out := d.text(time.Now())
	assertSafeText(t, out)
	assert.Contains(t, out, "CN="+hostileEscaped)
}
