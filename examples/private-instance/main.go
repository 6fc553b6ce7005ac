// Private-instance verifies conda packages signed by a private Sigstore
// instance (its own Fulcio, Rekor and OIDC issuer, e.g. a self-hosted GitLab
// or a Keycloak realm), optionally beside the public-good instance.
//
// The instance's trusted root comes from the TUF repository it runs,
// anchored by its initial root.json, obtained out of band from the
// instance's operators:
//
//	go run ./examples/private-instance \
//	  -tuf-url https://tuf.sigstore.example.com -tuf-root root.json \
//	  -identity 'https://gitlab.example.com/my-group/*' -issuer https://gitlab.example.com \
//	  https://conda.example.com/my-channel/linux-64/tool-1.0-0.conda
//
// or from its trusted_root.json file (-trusted-root), with no network for
// trust at all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Exit statuses.
const (
	exitPass  = 0 // every package passed or warned
	exitFail  = 1 // a package failed, or could not be verified
	exitUsage = 2 // bad flags, or no usable trusted root
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// trustFlags say where the trusted roots come from.
type trustFlags struct {
	tufURL, tufRoot, tufCache string
	offline                   bool
	trustedRoot               string
	addRoots                  []string
	publicGood                bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("private-instance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf trustFlags
	fs.StringVar(&tf.tufURL, "tuf-url", "", "base URL of the private instance's TUF repository")
	fs.StringVar(&tf.tufRoot, "tuf-root", "", "the TUF repository's initial root.json, obtained out of band")
	fs.StringVar(&tf.tufCache, "tuf-cache", "", "TUF cache directory (default: <user cache dir>/condasigs/tuf)")
	fs.BoolVar(&tf.offline, "offline", false, "read the TUF trusted root from the cache alone, opening no connection")
	fs.StringVar(&tf.trustedRoot, "trusted-root", "", "the private instance's trusted_root.json, instead of -tuf-url")
	fs.Func("add-trusted-root", "trust another instance's trusted_root.json too (repeatable)", func(path string) error {
		tf.addRoots = append(tf.addRoots, path)
		return nil
	})
	fs.BoolVar(&tf.publicGood, "public-good", false, "trust the Sigstore public-good instance too (its TUF repository)")
	var identities []string
	fs.Func("identity", "trusted signer: a SAN `pattern`, * matching any run (repeatable)", func(san string) error {
		identities = append(identities, san)
		return nil
	})
	issuer := fs.String("issuer", "", "the OIDC issuer of the -identity signers, e.g. https://gitlab.example.com")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 || *issuer == "" || len(identities) == 0 {
		fmt.Fprintln(stderr, "usage: private-instance (-tuf-url URL -tuf-root FILE | -trusted-root FILE) -identity PATTERN -issuer URL PACKAGE-URL...")
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	trust, closeTrust, err := loadTrust(ctx, tf, log)
	if err != nil {
		fmt.Fprintln(stderr, "private-instance:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	defer closeTrust()
	snap, err := trust.Snapshot(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "private-instance:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	cached := ""
	if snap.Info.FromCache {
		cached = " (from the cache)"
	}
	fmt.Fprintf(stdout, "trusted root: %s %s%s\n", snap.Info.Kind, condasigs.EscapeText(snap.Info.Source), cached)

	// The private issuer's identities; the issuer URL is compared exactly.
	pol := policy.Policy{Require: policy.ModeError}
	for _, san := range identities {
		pol.Identities = append(pol.Identities, policy.Identity{SAN: san, Issuer: *issuer})
	}
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: pol, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "private-instance:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}

	locked := make([]lockfile.Package, fs.NArg())
	for i, u := range fs.Args() {
		locked[i] = lockfile.Package{URL: u}
	}
	// The records are read from each channel's repodata.json, and the
	// attestations checked against their sha256, which is printed: a pass
	// is about the file with that sha256, so install checking it.
	// Names, identities and messages come from channels and certificates:
	// each is escaped before it is printed (condasigs.EscapeText).
	esc := condasigs.EscapeText
	code := exitPass
	for _, r := range v.VerifyLocked(ctx, locked, condasigs.BatchOptions{InstallerChecksRecords: true}) {
		if r.Err != nil {
			fmt.Fprintf(stdout, "%s: not verified: %s\n", esc(conda.Redact(r.Package.URL)), esc(r.Err.Error()))
			code = exitFail
			continue
		}
		rep := r.Report
		fmt.Fprintf(stdout, "%s: %s (%s)\n", esc(rep.Filename), rep.Outcome, esc(string(rep.Status)))
		if rep.Signer != nil {
			fmt.Fprintf(stdout, "  signed by %s\n  issuer    %s\n  sha256    %s\n", esc(rep.Signer.SAN), esc(rep.Signer.Issuer), esc(rep.PackageSHA256))
		}
		for _, reason := range rep.Reasons {
			if reason.Severity != policy.SeverityInfo {
				fmt.Fprintf(stdout, "  %s [%s]: %s\n", reason.Severity, esc(string(reason.Code)), esc(reason.Message))
			}
		}
		if rep.Outcome == policy.Fail {
			code = exitFail
		}
	}
	return code
}

// loadTrust builds the trusted material: the private instance's root (from
// its TUF repository or a file), plus any other instances. Several are
// combined so that each bundle is checked against the instance that issued
// it, never against a pool of all.
func loadTrust(ctx context.Context, f trustFlags, log *slog.Logger) (trustroot.Source, func(), error) {
	var sources []trustroot.Source
	var tufs []*trustroot.TUF
	closeAll := func() {
		for _, t := range tufs {
			t.Close()
		}
	}
	newTUF := func(opts trustroot.TUFOptions) error {
		opts.CacheDir, opts.Offline, opts.Logger = f.tufCache, f.offline, log
		t, err := trustroot.NewTUF(ctx, opts)
		if err != nil {
			return err
		}
		tufs = append(tufs, t)
		sources = append(sources, t)
		return nil
	}

	switch {
	case f.tufURL != "" && f.trustedRoot != "":
		return nil, nil, errors.New("-tuf-url and -trusted-root both give the private instance's root: give one")
	case f.tufURL != "":
		if f.tufRoot == "" {
			return nil, nil, errors.New("-tuf-url needs -tuf-root: the repository's initial root.json, from the instance's operators")
		}
		root, err := os.ReadFile(f.tufRoot)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the initial TUF root: %w", err)
		}
		if err := newTUF(trustroot.TUFOptions{RepositoryURL: f.tufURL, Root: root}); err != nil {
			return nil, nil, err
		}
	case f.trustedRoot != "":
		src, err := trustroot.FromFile(f.trustedRoot)
		if err != nil {
			return nil, nil, err
		}
		sources = append(sources, src)
	default:
		return nil, nil, errors.New("give the private instance's trusted root: -tuf-url URL -tuf-root FILE, or -trusted-root FILE")
	}
	for _, path := range f.addRoots {
		src, err := trustroot.FromFile(path)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		sources = append(sources, src)
	}
	if f.publicGood {
		if err := newTUF(trustroot.PublicGood()); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	if len(sources) == 1 {
		return sources[0], closeAll, nil
	}
	return trustroot.Combine(sources...), closeAll, nil
}
