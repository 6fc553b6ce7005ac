package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/condasigstest"
)

// transaction is a channel on loopback with a good package, an unsigned one
// and one that serves another package's attestation (a replay), and the
// flags that verify against its virtual Sigstore.
type transaction struct {
	ch                     *condasigstest.Channel
	flags                  []string
	good, unsigned, replay string // package URLs
}

func newTransaction(t *testing.T) transaction {
	t.Helper()
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	ch.Serve(t)
	ch.Add(t, condasigstest.Package{Filename: "good-1.0-0.conda", Signer: ss})
	ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	ch.Add(t, condasigstest.Package{Filename: "evil-1.0-0.conda", Signer: ss, ReplayOf: "good-1.0-0.conda"})

	root := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(root, ss.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return transaction{
		ch: ch,
		flags: []string{"-trusted-root", root,
			"-identity", "https://github.com/example/*", "-issuer", condasigstest.DefaultIssuer},
		good:     ch.Package("good-1.0-0.conda").URL,
		unsigned: ch.Package("unsigned-1.0-0.conda").URL,
		replay:   ch.Package("evil-1.0-0.conda").URL,
	}
}

func runPreflight(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

func TestRequireErrorRefuses(t *testing.T) {
	tx := newTransaction(t)
	code, out, errOut := runPreflight(t, append(tx.flags, "-require", "error", tx.good, tx.unsigned, tx.replay)...)
	if code != exitRefuse {
		t.Fatalf("exit status %d, want %d", code, exitRefuse)
	}
	for _, want := range []string{
		"refusing the transaction: 2 of 3 packages failed verification",
		"  unsigned-1.0-0.conda: fail (unsigned)\n    error [unsigned]: ",
		"  evil-1.0-0.conda: fail (verification-failure)\n",
		"error [subject-name]: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(out, "  good-1.0-0.conda:") {
		t.Error("stdout lists the good package among the failures")
	}
	for _, want := range []string{"verifying [1/3] ", "verifying [2/3] ", "verifying [3/3] ", "/linux-64/good-1.0-0.conda: pass\n"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress on stderr lacks %q", want)
		}
	}
}

func TestRequireWarnContinues(t *testing.T) {
	tx := newTransaction(t)
	code, out, _ := runPreflight(t, append(tx.flags, "-require", "warn", tx.good, tx.unsigned, tx.replay)...)
	if code != exitContinue {
		t.Fatalf("exit status %d, want %d", code, exitContinue)
	}
	for _, want := range []string{
		"  unsigned-1.0-0.conda: warn (unsigned)\n    warning [unsigned]: ",
		"  evil-1.0-0.conda: warn (verification-failure)\n",
		"warning [subject-name]: ",
		"transaction verified: 3 packages, 1 passed, 2 with warnings; continuing\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestTransactionFile(t *testing.T) {
	tx := newTransaction(t)
	file := filepath.Join(t.TempDir(), "transaction.txt")
	list := "# the solver's transaction\n" + tx.good + "\n\n" + tx.replay + "\n"
	if err := os.WriteFile(file, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runPreflight(t, append(tx.flags, "-transaction", file)...)
	if code != exitRefuse || !strings.Contains(out, "1 of 2 packages failed") {
		t.Fatalf("exit status %d, want %d and one failure of two", code, exitRefuse)
	}
	// The repodata was read once for both packages.
	if n := tx.ch.Requests("/linux-64/repodata.json"); n != 1 {
		t.Errorf("repodata.json requested %d times, want 1", n)
	}
}

func TestAllGood(t *testing.T) {
	tx := newTransaction(t)
	code, out, _ := runPreflight(t, append(tx.flags, tx.good)...)
	want := "transaction verified: 1 packages, 1 passed, 0 with warnings; continuing\n" +
		"  install good-1.0-0.conda only if its bytes have sha256 " + tx.ch.Package("good-1.0-0.conda").Record.SHA256 + "\n"
	if code != exitContinue || out != want {
		t.Fatalf("exit status %d, stdout %q", code, out)
	}
}

func TestNotInRepodataRefuses(t *testing.T) {
	tx := newTransaction(t)
	gone := tx.ch.URL() + "/linux-64/gone-1.0-0.conda"
	code, out, _ := runPreflight(t, append(tx.flags, tx.good, gone)...)
	if code != exitRefuse || !strings.Contains(out, "error [record-unavailable]: ") {
		t.Fatalf("exit status %d, want %d with record-unavailable", code, exitRefuse)
	}
}

func TestUsage(t *testing.T) {
	tx := newTransaction(t)
	for name, args := range map[string][]string{
		"no packages":         tx.flags,
		"unknown flag":        {"-nope", tx.good},
		"no identity":         {"-trusted-root", tx.flags[1], tx.good},
		"missing root":        {"-trusted-root", filepath.Join(t.TempDir(), "none.json"), "-identity", "x", tx.good},
		"config and flags":    append(tx.flags, "-config", "c.yaml", tx.good),
		"missing transaction": append(tx.flags, "-transaction", filepath.Join(t.TempDir(), "none.txt")),
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, _ := runPreflight(t, args...); code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
		})
	}
}

// TestRealPackageThroughMirror verifies the quickstart's real package,
// served on loopback as a mirror of https://prefix.dev/sigstore-example,
// with a policy file whose entry for that channel lists the mirror.
func TestRealPackageThroughMirror(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("..", "quickstart", "channel"))))
	defer srv.Close()
	config := filepath.Join(t.TempDir(), "condasigs.yaml")
	if err := os.WriteFile(config, []byte(`attestations:
  https://prefix.dev/sigstore-example:
    enabled: true
    require: error
    trusted_identities:
      - identity: "https://github.com/prefix-dev/sigstore-example/.github/workflows/*@refs/heads/main"
        issuer: github
    mirrors:
      - `+srv.URL+`
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runPreflight(t, "-config", config, "-trusted-root", filepath.Join("..", "quickstart", "trusted_root.json"),
		srv.URL+"/linux-64/signed-package-2.1.0-hb0f4dca_0.conda")
	want := "transaction verified: 1 packages, 1 passed, 0 with warnings; continuing\n" +
		"  install signed-package-2.1.0-hb0f4dca_0.conda only if its bytes have sha256 54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f\n"
	if code != exitContinue || out != want {
		t.Fatalf("exit status %d, stdout %q", code, out)
	}
}
