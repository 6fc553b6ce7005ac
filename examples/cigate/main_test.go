package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/condasigstest"
)

// env is a channel on loopback with a good, an unsigned and a replayed
// package, and the flags that verify against its virtual Sigstore.
type env struct {
	ch    *condasigstest.Channel
	flags []string
	dir   string // for lock files
}

func newEnv(t *testing.T) env {
	t.Helper()
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	ch.Serve(t)
	ch.Add(t, condasigstest.Package{Filename: "good-1.0-0.conda", Signer: ss})
	ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	ch.Add(t, condasigstest.Package{Filename: "evil-1.0-0.conda", Signer: ss, ReplayOf: "good-1.0-0.conda"})
	dir := t.TempDir()
	root := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(root, ss.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return env{ch: ch, dir: dir, flags: []string{"-trusted-root", root,
		"-identity", "https://github.com/example/*", "-issuer", condasigstest.DefaultIssuer}}
}

func (e env) url(filename string) string { return e.ch.Package(filename).URL }

// write writes a lock file and returns its path.
func (e env) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// explicit writes a conda explicit file: good at line 4, unsigned at 5,
// evil at 6.
func (e env) explicit(t *testing.T) string {
	return e.write(t, "explicit.txt", "# platform: linux-64\n# created by a test\n@EXPLICIT\n"+
		e.line("good-1.0-0.conda")+"\n"+e.line("unsigned-1.0-0.conda")+"\n"+e.line("evil-1.0-0.conda")+"\n")
}

// line is the explicit-file line of a package, with its sha256, as
// conda list --explicit --sha256 writes it.
func (e env) line(filename string) string {
	return e.url(filename) + "#sha256:" + e.ch.Package(filename).Record.SHA256
}

func runGate(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String()
}

func TestExplicitRequireError(t *testing.T) {
	e := newEnv(t)
	file := e.explicit(t)
	code, out := runGate(t, append(e.flags, file)...)
	if code != exitFail {
		t.Fatalf("exit status %d, want %d", code, exitFail)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 2 annotations and the summary", len(lines))
	}
	for i, want := range []string{
		"::error file=" + file + ",line=5::unsigned-1.0-0.conda: fail (unsigned)%0A[unsigned] ",
		"::error file=" + file + ",line=6::evil-1.0-0.conda: fail (verification-failure)%0A[no-trusted-bundle] ",
		file + ": 3 packages: 1 passed, 0 warned, 2 failed; 0 skipped (not conda packages); 0 verdicts from the cache",
	} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q\nwant prefix %q", i+1, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "%0A[subject-name] ") {
		t.Errorf("the replay's annotation lacks its cause: %q", lines[1])
	}
}

func TestExplicitRequireWarn(t *testing.T) {
	e := newEnv(t)
	file := e.explicit(t)
	code, out := runGate(t, append(e.flags, "-require", "warn", file)...)
	if code != exitPass {
		t.Fatalf("exit status %d, want %d", code, exitPass)
	}
	for _, want := range []string{
		"::warning file=" + file + ",line=5::unsigned-1.0-0.conda: warn (unsigned)",
		"::warning file=" + file + ",line=6::evil-1.0-0.conda: warn (verification-failure)",
		": 3 packages: 1 passed, 2 warned, 0 failed;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestPixiLock(t *testing.T) {
	e := newEnv(t)
	good, evil := e.url("good-1.0-0.conda"), e.url("evil-1.0-0.conda")
	lock := fmt.Sprintf(`version: 6
environments:
  default:
    channels:
    - url: %[1]s/
    packages:
      linux-64:
      - conda: %[2]s
      - conda: %[3]s
      - pypi: https://files.pythonhosted.org/packages/ab/cd/requests-2.32.3-py3-none-any.whl
packages:
- conda: %[2]s
  sha256: %[4]s
- conda: %[3]s
  sha256: %[5]s
- pypi: https://files.pythonhosted.org/packages/ab/cd/requests-2.32.3-py3-none-any.whl
  name: requests
  version: 2.32.3
`, e.ch.URL(), good, evil, e.ch.Package("good-1.0-0.conda").Record.SHA256, e.ch.Package("evil-1.0-0.conda").Record.SHA256)
	file := e.write(t, "pixi.lock", lock)
	code, out := runGate(t, append(e.flags, file)...)
	if code != exitFail {
		t.Fatalf("exit status %d, want %d", code, exitFail)
	}
	// The evil package's entry in packages: is line 14.
	for _, want := range []string{
		"::error file=" + file + ",line=14::evil-1.0-0.conda: fail (verification-failure)",
		": 2 packages: 1 passed, 0 warned, 1 failed; 1 skipped (not conda packages);",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestLockMismatch(t *testing.T) {
	e := newEnv(t)
	other := strings.Repeat("0", 64)
	file := e.write(t, "explicit.txt", "@EXPLICIT\n"+e.url("good-1.0-0.conda")+"#"+other+"\n")
	code, out := runGate(t, append(e.flags, file)...)
	if code != exitFail || !strings.Contains(out, "::error file="+file+",line=2::good-1.0-0.conda: fail") ||
		!strings.Contains(out, "[lock-mismatch] ") {
		t.Fatalf("exit status %d, want %d with a lock-mismatch annotation at line 2", code, exitFail)
	}
}

func TestCache(t *testing.T) {
	e := newEnv(t)
	file := e.write(t, "explicit.txt", "@EXPLICIT\n"+e.line("good-1.0-0.conda")+"\n"+e.line("evil-1.0-0.conda")+"\n")
	args := append(e.flags, "-cache-dir", filepath.Join(e.dir, "cache"), file)
	sidecars := []string{
		"/linux-64/good-1.0-0.conda.sigs." + e.ch.Package("good-1.0-0.conda").Record.AttestationsSHA256,
		"/linux-64/evil-1.0-0.conda.sigs." + e.ch.Package("evil-1.0-0.conda").Record.AttestationsSHA256,
	}

	code, out := runGate(t, args...)
	if code != exitFail || !strings.Contains(out, "0 verdicts from the cache") {
		t.Fatalf("first run: exit status %d, want %d and nothing from the cache", code, exitFail)
	}
	for _, p := range sidecars {
		if n := e.ch.Requests(p); n != 1 {
			t.Fatalf("first run: %s requested %d times, want 1", p, n)
		}
	}

	// The second run decides from the caches: the same annotations, no
	// sidecar request.
	code2, out2 := runGate(t, args...)
	if code2 != exitFail || !strings.Contains(out2, "2 verdicts from the cache") {
		t.Fatalf("second run: exit status %d, want %d and both verdicts from the cache", code2, exitFail)
	}
	if strings.Split(out, "\n")[0] != strings.Split(out2, "\n")[0] {
		t.Errorf("the annotations differ:\n%s\n%s", out, out2)
	}
	for _, p := range sidecars {
		if n := e.ch.Requests(p); n != 1 {
			t.Errorf("second run: %s requested %d times in all, want 1 (the first run's)", p, n)
		}
	}
}

func TestBadLockFile(t *testing.T) {
	e := newEnv(t)
	file := e.write(t, "explicit.txt", "@EXPLICIT\n"+e.url("good-1.0-0.conda")+"\nnot a url\n")
	code, out := runGate(t, append(e.flags, file)...)
	if code != exitUsage || !strings.HasPrefix(out, "::error file="+file+",line=3::") {
		t.Fatalf("exit status %d, want %d with an annotation at line 3", code, exitUsage)
	}
}

func TestEscape(t *testing.T) {
	if got := escapeData("50% done\r\nnext: a,b"); got != "50%25 done%0D%0Anext: a,b" {
		t.Errorf("escapeData: %q", got)
	}
	if got := escapeProperty("C:\\a,b%.lock"); got != "C%3A\\a%2Cb%25.lock" {
		t.Errorf("escapeProperty: %q", got)
	}
}

// A line without sha256 binds nothing: conda installs it without checking
// the bytes against the digest the attestation names, so even the signed
// package fails the gate, and the annotation says how to fix the file.
func TestUnhashedLineFails(t *testing.T) {
	e := newEnv(t)
	for _, suffix := range []string{"", "#" + e.ch.Package("good-1.0-0.conda").Record.MD5} {
		file := e.write(t, "explicit.txt", "@EXPLICIT\n"+e.url("good-1.0-0.conda")+suffix+"\n")
		code, out := runGate(t, append(e.flags, file)...)
		if code != exitFail || !strings.Contains(out, "::error file="+file+",line=2::good-1.0-0.conda: fail") ||
			!strings.Contains(out, "[lock-unbound] ") || !strings.Contains(out, "conda list --explicit --sha256") {
			t.Fatalf("line %q: exit status %d, want %d with a lock-unbound annotation at line 2", suffix, code, exitFail)
		}
	}
}

// A lock file that lists no conda package verifies nothing: the gate must
// not pass it.
func TestEmptyLockFileIsUsageError(t *testing.T) {
	e := newEnv(t)
	file := e.write(t, "explicit.txt", "@EXPLICIT\n")
	if code, _ := runGate(t, append(e.flags, file)...); code != exitUsage {
		t.Fatalf("exit status %d, want %d", code, exitUsage)
	}
}
