package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// identity is the trusted signer of the test channels.
var identity = policy.Identity{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer}

// source is a channel on loopback signed by a virtual Sigstore, with a
// trusted_root.json file for it.
type source struct {
	ss   *condasigstest.Sigstore
	ch   *condasigstest.Channel
	root string
}

func newSource(t *testing.T) source {
	t.Helper()
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	ch.Serve(t)
	ch.Add(t, condasigstest.Package{Filename: "good-1.0-0.conda", Signer: ss})
	ch.Add(t, condasigstest.Package{Filename: "also-good-2.0-1.tar.bz2", Signer: ss})
	ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})
	root := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(root, ss.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return source{ss: ss, ch: ch, root: root}
}

func runMirror(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String()
}

// sameFiles checks that every file of the source subdir is in the mirror,
// byte for byte, and that the mirror has nothing else.
func sameFiles(t *testing.T, src, dst string) {
	t.Helper()
	want, _ := filepath.Glob(filepath.Join(src, "*"))
	got, _ := filepath.Glob(filepath.Join(dst, "*"))
	if len(got) != len(want) {
		t.Errorf("the mirror has %d files, the source %d", len(got), len(want))
	}
	for _, p := range want {
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(dst, filepath.Base(p)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: not mirrored byte for byte (%v)", filepath.Base(p), err)
		}
	}
}

func TestMirrorVerifies(t *testing.T) {
	src := newSource(t)
	dest := t.TempDir()
	code, out := runMirror(t, "-source", src.ch.URL(), "-subdir", "linux-64", "-dest", dest)
	if code != exitOK || !strings.Contains(out, "linux-64: repodata.json published, 3 packages\n") {
		t.Fatalf("exit status %d, want %d and the repodata published", code, exitOK)
	}
	sameFiles(t, filepath.Join(src.ch.Dir, "linux-64"), filepath.Join(dest, "linux-64"))

	// Serve the mirror, and verify its copy as a client would: the record
	// from the mirror's repodata, the sidecar from the mirror.
	srv := httptest.NewServer(http.FileServer(http.Dir(dest)))
	defer srv.Close()
	body, err := fetch.New(fetch.Options{}).OpenRepodata(context.Background(), srv.URL+"/linux-64/repodata.json")
	if err != nil {
		t.Fatal(err)
	}
	found, err := fetch.FindRecords(body, []string{"good-1.0-0.conda"})
	body.Close()
	if err == nil {
		err = found["good-1.0-0.conda"].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	rec := found["good-1.0-0.conda"].Record
	if rec.AttestationsSHA256 != src.ch.Package("good-1.0-0.conda").Record.AttestationsSHA256 {
		t.Fatalf("the mirror's attestations_sha256 is %q, not the source's", rec.AttestationsSHA256)
	}
	pkg := condasigs.Package{URL: srv.URL + "/linux-64/good-1.0-0.conda", Record: rec}

	verify := func(opts condasigs.Options, pkg condasigs.Package) *condasigs.Report {
		t.Helper()
		trust, err := trustroot.FromJSON(src.ss.TrustedRootJSON(t))
		if err != nil {
			t.Fatal(err)
		}
		opts.Trust = trust
		v, err := condasigs.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := v.Verify(context.Background(), pkg)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// A policy entry for the source channel, with the mirror under Mirrors.
	cfg := &policy.Config{Channels: []policy.ChannelPolicy{{
		Channel: src.ch.URL(), Enabled: true, Mirrors: []string{srv.URL},
		Policy: policy.Policy{Identities: []policy.Identity{identity}},
	}}}
	if rep := verify(condasigs.Options{Config: cfg}, pkg); rep.Outcome != policy.Pass || rep.PolicyEntry != src.ch.URL() {
		t.Errorf("mirrored package with a Mirrors entry: %s (entry %q), %+v", rep.Outcome, rep.PolicyEntry, rep.Reasons)
	}
	// Or Package.Channel set to the channel the mirror copies.
	withChannel := pkg
	withChannel.Channel = src.ch.URL()
	if rep := verify(condasigs.Options{Policy: policy.Policy{Identities: []policy.Identity{identity}}}, withChannel); rep.Outcome != policy.Pass {
		t.Errorf("mirrored package with Package.Channel: %s, %+v", rep.Outcome, rep.Reasons)
	}
	// Without either, the attestation names another channel than the
	// mirror: the policy's channel_mismatch rule fails it.
	rep := verify(condasigs.Options{Policy: policy.Policy{Identities: []policy.Identity{identity}}}, pkg)
	if rep.Outcome != policy.Fail || !hasCode(rep, "target-channel-mismatch") {
		t.Errorf("mirrored package verified as its own channel: %s, %+v; want a target-channel-mismatch", rep.Outcome, rep.Reasons)
	}

	// A second run finds everything in place and changes nothing.
	code, out = runMirror(t, "-source", src.ch.URL(), "-subdir", "linux-64", "-dest", dest)
	if code != exitOK || strings.Contains(out, "copied") || !strings.Contains(out, "good-1.0-0.conda: present, sidecar ") {
		t.Errorf("second run: exit status %d, want %d with nothing copied", code, exitOK)
	}
	sameFiles(t, filepath.Join(src.ch.Dir, "linux-64"), filepath.Join(dest, "linux-64"))
}

func hasCode(rep *condasigs.Report, code string) bool {
	for _, r := range rep.Reasons {
		if string(r.Code) == code {
			return true
		}
	}
	return false
}

func TestMirrorRefusesBadSidecar(t *testing.T) {
	for name, bad := range map[string]condasigstest.Package{
		"tampered": {TamperSidecar: true},
		"missing":  {NoSidecarFile: true},
	} {
		t.Run(name, func(t *testing.T) {
			src := newSource(t)
			bad.Filename, bad.Signer = "bad-1.0-0.conda", src.ss
			rec := src.ch.Add(t, bad)
			dest := t.TempDir()
			code, out := runMirror(t, "-source", src.ch.URL(), "-subdir", "linux-64", "-dest", dest)
			if code != exitRefused || !strings.Contains(out, "linux-64/bad-1.0-0.conda: refused: sidecar: ") {
				t.Fatalf("exit status %d, want %d with bad-1.0-0.conda refused", code, exitRefused)
			}
			for _, name := range []string{
				"bad-1.0-0.conda.sigs." + rec.AttestationsSHA256, // the immutable sidecar
				"bad-1.0-0.conda.sigs",                           // the mutable one
				"repodata.json",                                  // not published
			} {
				if _, err := os.Stat(filepath.Join(dest, "linux-64", name)); err == nil {
					t.Errorf("%s is in the mirror", name)
				}
			}
		})
	}
}

func TestMirrorVerifyFirst(t *testing.T) {
	src := newSource(t)
	src.ch.Add(t, condasigstest.Package{Filename: "evil-1.0-0.conda", Signer: src.ss, ReplayOf: "good-1.0-0.conda"})
	flags := []string{"-source", src.ch.URL(), "-subdir", "linux-64", "-dest", t.TempDir(),
		"-verify", "-trusted-root", src.root, "-identity", identity.SAN, "-issuer", identity.Issuer}

	// The replayed and the unsigned package fail the policy and are not
	// copied; the good ones are; the repodata is not published.
	code, out := runMirror(t, append(flags, "-require", "error")...)
	if code != exitRefused {
		t.Fatalf("exit status %d, want %d", code, exitRefused)
	}
	for _, want := range []string{
		"linux-64/evil-1.0-0.conda: refused: verification failed: ",
		"[subject-name]",
		"linux-64/unsigned-1.0-0.conda: refused: verification failed: [unsigned]",
		"linux-64/good-1.0-0.conda: copied, sidecar ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(flags[5], "linux-64", "evil-1.0-0.conda")); err == nil {
		t.Error("the refused package was copied")
	}
}

func TestUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no source":  {"-dest", t.TempDir(), "-subdir", "linux-64"},
		"no subdir":  {"-source", "https://example.com/ch", "-dest", t.TempDir()},
		"bad subdir": {"-source", "https://example.com/ch", "-dest", t.TempDir(), "-subdir", "../etc"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _ := runMirror(t, args...); code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
		})
	}
}

// TestMirrorRealChannel mirrors the quickstart's local copy of a real
// channel (file://), verifying its real public-good attestation first: the
// copy is a mirror of https://prefix.dev/sigstore-example, which -channel
// names.
func TestMirrorRealChannel(t *testing.T) {
	src, err := filepath.Abs(filepath.Join("..", "quickstart", "channel"))
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	code, out := runMirror(t, "-source", (&url.URL{Scheme: "file", Path: filepath.ToSlash(src)}).String(), "-subdir", "linux-64", "-dest", dest,
		"-verify", "-trusted-root", filepath.Join("..", "quickstart", "trusted_root.json"),
		"-channel", "https://prefix.dev/sigstore-example",
		"-identity", "https://github.com/prefix-dev/sigstore-example/.github/workflows/*@refs/heads/main")
	if code != exitOK || !strings.Contains(out, "linux-64/signed-package-2.1.0-hb0f4dca_0.conda: copied, sidecar 50d02de145d1\n") {
		t.Fatalf("exit status %d, want %d with the package and its sidecar copied", code, exitOK)
	}
	sameFiles(t, filepath.Join(src, "linux-64"), filepath.Join(dest, "linux-64"))
}

// TestMirrorRefusesBadRepodata: file names from repodata become paths in
// the mirror, so one that is not a plain name stops the subdir, as does a
// file name listed twice.
func TestMirrorRefusesBadRepodata(t *testing.T) {
	for name, packages := range map[string]string{
		"path":  `"packages.conda": {"../escape-1.0-0.conda": {"name": "escape", "version": "1.0", "build": "0", "build_number": 0}}`,
		"twice": `"packages": {"a-1.0-0.tar.bz2": {}}, "packages.conda": {"b-1.0-0.conda": {}}, "packages.conda": {"b-1.0-0.conda": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			if err := os.MkdirAll(filepath.Join(src, "linux-64"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "linux-64", "repodata.json"), []byte("{"+packages+"}"), 0o644); err != nil {
				t.Fatal(err)
			}
			dest := t.TempDir()
			code, _ := runMirror(t, "-source", (&url.URL{Scheme: "file", Path: filepath.ToSlash(src)}).String(), "-subdir", "linux-64", "-dest", dest)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if entries, _ := os.ReadDir(dest); len(entries) != 0 {
				t.Errorf("the mirror has %d entries, want none", len(entries))
			}
		})
	}
}
