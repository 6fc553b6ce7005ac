package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/tufrepo"
)

// The private instance's OIDC issuer and its CI identities.
const (
	issuer   = "https://gitlab.example.com"
	signer   = "https://gitlab.example.com/my-group/tool//.gitlab-ci.yml@refs/heads/main"
	trusting = "https://gitlab.example.com/my-group/*"
)

// instance is a private Sigstore instance whose trusted root is served by
// its TUF repository, a channel of packages it signed, one package signed
// by another instance, and a package signed by the right instance for
// another issuer.
type instance struct {
	repo                *tufrepo.Repo
	rootJSON            string // the TUF repository's initial root.json
	trustedRoot, others string // trusted_root.json files of the instance and of the other one
	tool, rogue, github string // package URLs
	dir                 string
}

func newInstance(t *testing.T) instance {
	t.Helper()
	private, other := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	repo := tufrepo.New(t, private.TrustedRootJSON(t))

	ch := condasigstest.NewChannel(t, "linux-64")
	ch.Serve(t)
	ch.Add(t, condasigstest.Package{Filename: "tool-1.0-0.conda", Signer: private, Identity: signer, Issuer: issuer})
	ch.Add(t, condasigstest.Package{Filename: "rogue-1.0-0.conda", Signer: other, Identity: signer, Issuer: issuer})
	ch.Add(t, condasigstest.Package{Filename: "github-1.0-0.conda", Signer: private, Identity: signer, Issuer: condasigstest.DefaultIssuer})

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return instance{
		repo:        repo,
		rootJSON:    write("root.json", repo.Root()),
		trustedRoot: write("private_trusted_root.json", private.TrustedRootJSON(t)),
		others:      write("other_trusted_root.json", other.TrustedRootJSON(t)),
		tool:        ch.Package("tool-1.0-0.conda").URL,
		rogue:       ch.Package("rogue-1.0-0.conda").URL,
		github:      ch.Package("github-1.0-0.conda").URL,
		dir:         dir,
	}
}

// tufFlags take the trusted root from the instance's TUF repository.
func (in instance) tufFlags() []string {
	return []string{"-tuf-url", in.repo.URL(), "-tuf-root", in.rootJSON, "-tuf-cache", filepath.Join(in.dir, "tuf"),
		"-identity", trusting, "-issuer", issuer}
}

func runPrivate(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String()
}

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestTUF(t *testing.T) {
	in := newInstance(t)
	code, out := runPrivate(t, append(in.tufFlags(), in.tool)...)
	if code != exitPass {
		t.Fatalf("exit status %d, want %d", code, exitPass)
	}
	contains(t, out,
		"trusted root: tuf "+in.repo.URL()+"\n",
		"tool-1.0-0.conda: pass (verified)\n  signed by "+signer+"\n  issuer    "+issuer+"\n")
}

func TestOtherInstanceFails(t *testing.T) {
	in := newInstance(t)
	code, out := runPrivate(t, append(in.tufFlags(), in.tool, in.rogue)...)
	if code != exitFail {
		t.Fatalf("exit status %d, want %d", code, exitFail)
	}
	contains(t, out, "tool-1.0-0.conda: pass (verified)\n",
		"rogue-1.0-0.conda: fail (verification-failure)\n", "error [no-trusted-bundle]: ")
}

func TestOtherIssuerFails(t *testing.T) {
	in := newInstance(t)
	code, out := runPrivate(t, append(in.tufFlags(), in.github)...)
	if code != exitFail {
		t.Fatalf("exit status %d, want %d", code, exitFail)
	}
	contains(t, out, "github-1.0-0.conda: fail (verification-failure)\n", "[untrusted-identity]")
}

func TestTrustedRootFile(t *testing.T) {
	in := newInstance(t)
	code, out := runPrivate(t, "-trusted-root", in.trustedRoot, "-identity", trusting, "-issuer", issuer, in.tool, in.rogue)
	if code != exitFail {
		t.Fatalf("exit status %d, want %d", code, exitFail)
	}
	contains(t, out, "trusted root: file "+in.trustedRoot+"\n",
		"tool-1.0-0.conda: pass (verified)\n", "rogue-1.0-0.conda: fail (verification-failure)\n")
	if in.repo.Hits() != 0 {
		t.Errorf("the TUF repository got %d requests, want none", in.repo.Hits())
	}
}

// TestCombined trusts the other instance too (as -public-good would trust
// the public-good instance): each package verifies against its own.
func TestCombined(t *testing.T) {
	in := newInstance(t)
	code, out := runPrivate(t, append(in.tufFlags(), "-add-trusted-root", in.others, in.tool, in.rogue)...)
	if code != exitPass {
		t.Fatalf("exit status %d, want %d", code, exitPass)
	}
	contains(t, out, "trusted root: set tuf "+in.repo.URL()+"; file "+in.others+"\n",
		"tool-1.0-0.conda: pass (verified)\n", "rogue-1.0-0.conda: pass (verified)\n")
}

// TestOffline reads the root from the TUF cache a first run filled, with
// the repository down.
func TestOffline(t *testing.T) {
	in := newInstance(t)
	if code, _ := runPrivate(t, append(in.tufFlags(), in.tool)...); code != exitPass {
		t.Fatalf("online run: exit status %d, want %d", code, exitPass)
	}
	in.repo.SetDown(true)
	hits := in.repo.Hits()
	code, out := runPrivate(t, append(in.tufFlags(), "-offline", in.tool)...)
	if code != exitPass {
		t.Fatalf("offline run: exit status %d, want %d", code, exitPass)
	}
	contains(t, out, "trusted root: tuf "+in.repo.URL()+" (from the cache)\n", "tool-1.0-0.conda: pass (verified)\n")
	if in.repo.Hits() != hits {
		t.Errorf("the offline run made %d TUF requests", in.repo.Hits()-hits)
	}
}

func TestUsage(t *testing.T) {
	in := newInstance(t)
	for name, args := range map[string][]string{
		"no root":          {"-identity", trusting, "-issuer", issuer, in.tool},
		"no tuf root":      {"-tuf-url", in.repo.URL(), "-identity", trusting, "-issuer", issuer, in.tool},
		"two roots":        {"-tuf-url", in.repo.URL(), "-tuf-root", in.rootJSON, "-trusted-root", in.trustedRoot, "-identity", trusting, "-issuer", issuer, in.tool},
		"no issuer":        {"-trusted-root", in.trustedRoot, "-identity", trusting, in.tool},
		"wrong tuf root":   {"-tuf-url", in.repo.URL(), "-tuf-root", in.trustedRoot, "-tuf-cache", t.TempDir(), "-identity", trusting, "-issuer", issuer, in.tool},
		"offline no cache": {"-tuf-url", in.repo.URL(), "-tuf-root", in.rootJSON, "-tuf-cache", filepath.Join(t.TempDir(), "none"), "-offline", "-identity", trusting, "-issuer", issuer, in.tool},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _ := runPrivate(t, args...); code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
		})
	}
}
