package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// TestHostileNamesEscaped: names and identities a channel and a
// certificate chose, with line breaks, escape sequences and a
// bidirectional override, are printed escaped, in the progress lines and
// in the verdict.
func TestHostileNamesEscaped(t *testing.T) {
	const hostile = "\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07\u202e"
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	base := ch.Serve(t)
	name := "::evil" + hostile + "-1.0-0.conda"
	ch.Add(t, condasigstest.Package{Filename: name, Signer: ss, Identity: "x\n::error::y\x1b[2J@example.com", Issuer: "https://issuer.example/" + hostile})
	root := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(root, ss.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPreflight(t, "-trusted-root", root, "-identity", "https://github.com/example/*", "-issuer", condasigstest.DefaultIssuer,
		base+"/linux-64/"+url.PathEscape(name))
	if code != exitRefuse {
		t.Fatalf("exit status %d, want %d", code, exitRefuse)
	}
	text := out + errOut
	for _, r := range text {
		if r != '\n' && textsafe.Unsafe(r) {
			t.Fatalf("the output holds %U", r)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "::") || strings.HasPrefix(l, "PASS") {
			t.Errorf("a line starts a workflow command or a fake verdict: %q", line)
		}
	}
	if want := `  \x3a:evil\n::warning::all 1 packages passed\nPASS fake\x1b[2J\x1b]0;title\x07\u202e-1.0-0.conda: fail (verification-failure)`; !strings.Contains(out, want) {
		t.Errorf("stdout lacks %q", want)
	}
}
