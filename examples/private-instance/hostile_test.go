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

// TestHostileNamesEscaped: a file name that starts a line of the output,
// chosen by the channel to start a workflow command, hold line breaks,
// escape sequences and a bidirectional override, is printed escaped.
func TestHostileNamesEscaped(t *testing.T) {
	private := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	base := ch.Serve(t)
	name := "::error::evil\n::warning::all passed\nPASS fake\x1b[2J\x1b]0;title\x07\u202e-1.0-0.conda"
	ch.Add(t, condasigstest.Package{Filename: name, Signer: private, Identity: signer, Issuer: issuer})
	root := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(root, private.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-trusted-root", root, "-identity", trusting, "-issuer", issuer, base + "/linux-64/" + url.PathEscape(name)}, &out, &errOut)
	if code != exitPass {
		t.Fatalf("exit status %d, want %d\n%s%s", code, exitPass, out.String(), errOut.String())
	}
	text := out.String() + errOut.String()
	for _, r := range text {
		if r != '\n' && textsafe.Unsafe(r) {
			t.Fatalf("the output holds %U: %q", r, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "::") || strings.HasPrefix(l, "PASS") {
			t.Errorf("a line starts a workflow command or a fake verdict: %q", line)
		}
	}
	if want := `\x3a:error::evil\n::warning::all passed\nPASS fake\x1b[2J\x1b]0;title\x07\u202e-1.0-0.conda: pass (verified)`; !strings.Contains(out.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}
}
