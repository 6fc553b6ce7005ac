package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// What a hostile channel, certificate or lock file writes into names and
// identities: line breaks that would start a workflow command and a fake
// verdict, CSI and OSC escape sequences, a right-to-left override.
const (
	hostileASCII   = "\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07"
	hostile        = hostileASCII + "\u202e"
	hostileEscaped = `\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07\u202e`
)

// TestHostileNamesAnnotations: the only workflow commands cigate prints are
// its own annotations, one a failing package, and neither they nor what
// the runner shows of them (their message, unescaped) holds a line break,
// an escape sequence or a bidirectional control that a channel, a
// certificate or a lock file put there.
func TestHostileNamesAnnotations(t *testing.T) {
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	base := ch.Serve(t)
	names := []string{"evil" + hostile + "-1.0-0.conda", "signer-1.0-0.conda", "target-1.0-0.conda"}
	ch.Add(t, condasigstest.Package{Filename: names[0], Unsigned: true})
	ch.Add(t, condasigstest.Package{Filename: names[1], Signer: ss, Identity: "x" + hostileASCII + "@example.com", Issuer: "https://issuer.example/" + hostile})
	ch.Add(t, condasigstest.Package{Filename: names[2], Signer: ss, TargetChannel: "https://other.example/\u202e\u2066\u2028\u0085::warning::x"})
	dir := t.TempDir()
	root := filepath.Join(dir, "trusted_root.json")
	lock := filepath.Join(dir, "explicit.txt")
	content := "@EXPLICIT\n"
	for _, n := range names {
		content += base + "/linux-64/" + url.PathEscape(n) + "#" + ch.Package(n).Record.SHA256 + "\n"
	}
	if err := os.WriteFile(root, ss.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lock, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-trusted-root", root, "-identity", "https://github.com/example/*", "-issuer", condasigstest.DefaultIssuer, lock}, &out, &errOut)
	if code != exitFail {
		t.Fatalf("exit status %d, want %d\n%s%s", code, exitFail, out.String(), errOut.String())
	}
	checkSafe(t, "stdout and stderr", out.String()+errOut.String())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 3 annotations and the summary:\n%s", len(lines), out.String())
	}
	for i, line := range lines[:3] {
		prefix := "::error file=" + lock + ",line=" + string(rune('2'+i)) + "::"
		msg, ok := strings.CutPrefix(line, prefix)
		if !ok {
			t.Fatalf("line %d: %q\nwant prefix %q", i+1, line, prefix)
		}
		// What the runner shows.
		shown := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(msg)
		checkSafe(t, "annotation", shown)
		for j, l := range strings.Split(shown, "\n") {
			if j > 0 && !strings.HasPrefix(l, "[") {
				t.Errorf("annotation %d, line %d is not a reason: %q", i+1, j+1, l)
			}
		}
	}
	for _, want := range []string{
		"::evil" + hostileEscaped + "-1.0-0.conda: fail (unsigned)%0A[unsigned] ",
		`signed by x\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07@example.com (issuer https://issuer.example/` + hostileEscaped + ")",
		`targets channel https://other.example/\u202e\u2066\u2028\u0085::warning::x`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.HasPrefix(lines[3], lock+": 3 packages: 0 passed, 0 warned, 3 failed;") {
		t.Errorf("summary: %q", lines[3])
	}
}

// checkSafe fails the test if text holds a character that drives a
// terminal or reorders text (line breaks aside), or a line that starts a
// workflow command the gate did not write.
func checkSafe(t *testing.T, what, text string) {
	t.Helper()
	for _, r := range text {
		if r != '\n' && textsafe.Unsafe(r) {
			t.Errorf("%s holds %U: %q", what, r, text)
			return
		}
	}
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "PASS fake") || (strings.HasPrefix(l, "::") && !strings.HasPrefix(l, "::error file=")) {
			t.Errorf("%s: a line starts a workflow command or a fake verdict: %q", what, line)
		}
	}
}
