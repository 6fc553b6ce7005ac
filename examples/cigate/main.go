// Cigate is a CI gate over a lock file: it verifies the attestations of
// every conda package a conda explicit file, pixi.lock or conda-lock.yml
// names, prints a GitHub Actions workflow annotation for each failure and
// warning (pointing at the lock file's line), a summary, and exits with
// status 1 when any package fails.
//
//	go run ./examples/cigate -config condasigs.yaml -cache-dir .cache/condasigs pixi.lock
//
// Run as a step of a GitHub Actions workflow, from the repository's root
// (annotations name the lock file by the path given), its annotations show
// on the pull request's diff.
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
	"path/filepath"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Exit statuses.
const (
	exitPass  = 0 // every package passed or warned
	exitFail  = 1 // a package failed, or could not be verified
	exitUsage = 2 // bad flags, configuration, trusted root or lock file
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cigate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var identities []string
	fs.Func("identity", "trusted signer: a SAN `pattern`, * matching any run (repeatable)", func(san string) error {
		identities = append(identities, san)
		return nil
	})
	issuer := fs.String("issuer", "https://token.actions.githubusercontent.com", "OIDC issuer of the -identity signers")
	require := fs.String("require", "error", "missing or failing attestations: error, warn or ignore")
	config := fs.String("config", "", "per-channel policy file (YAML), instead of -identity, -issuer and -require")
	trustedRoot := fs.String("trusted-root", "", "trusted_root.json to verify against (default: the Sigstore public-good TUF repository)")
	cacheDir := fs.String("cache-dir", "", "keep sidecars and verdicts here between runs (e.g. with actions/cache); keep it private")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: cigate [flags] LOCKFILE (a conda explicit file, pixi.lock or conda-lock.yml)")
		return exitUsage
	}
	lockPath := fs.Arg(0)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The lock file; a parse error points at its line too.
	lf, err := lockfile.Read(lockPath)
	if err != nil {
		var lerr *lockfile.Error
		if errors.As(err, &lerr) && lerr.Line > 0 {
			annotate(stdout, "error", lockPath, lerr.Line, condasigs.EscapeText(lerr.Err.Error()))
		}
		fmt.Fprintln(stderr, "cigate:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	if len(lf.Packages) == 0 {
		// A gate that checks nothing must not pass.
		fmt.Fprintln(stderr, "cigate:", condasigs.EscapeText(lockPath), "lists no conda package: nothing to verify; check the file")
		return exitUsage
	}

	// The policy: who may sign, and what a missing or failing attestation
	// means.
	opts := condasigs.Options{Logger: log}
	if err := setPolicy(&opts, *config, identities, *issuer, *require); err != nil {
		fmt.Fprintln(stderr, "cigate:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	// The caches: sidecars by their SHA-256 (hashed again on every read),
	// verdicts by everything they depend on. A second run over an unchanged
	// lock file makes no sidecar request and checks no signature.
	// Verdicts are trusted as they are read back, and sidecars are
	// written: each directory is created private, then checked
	// (fetch.NewDirCache), and left unused unless no one else can write
	// it.
	fo := fetch.Options{Logger: log}
	if *cacheDir != "" {
		// The directory itself first, so that nothing is created in it
		// unless it passes.
		if _, err := fetch.NewDirCache(*cacheDir); err != nil {
			fmt.Fprintln(stderr, "cigate: warning: nothing is cached:", condasigs.EscapeText(err.Error()))
		} else {
			fo.Cache = dirCache(*cacheDir, "sidecars", stderr)
			opts.VerdictCache = dirCache(*cacheDir, "verdicts", stderr)
		}
	}
	opts.Fetcher = fetch.New(fo)
	// The trusted root, then the verifier.
	trust, closeTrust, err := loadTrust(ctx, *trustedRoot, log)
	if err != nil {
		fmt.Fprintln(stderr, "cigate:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	defer closeTrust()
	opts.Trust = trust
	v, err := condasigs.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, "cigate:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}

	// Results come in the order of lf.Packages: result i is at line
	// lf.Packages[i].Line.
	results := v.VerifyLocked(ctx, lf.Packages, condasigs.BatchOptions{})
	var passed, warned, failed, cached int
	for i, r := range results {
		line := lf.Packages[i].Line
		switch {
		case r.Err != nil:
			failed++
			annotate(stdout, "error", lockPath, line, condasigs.EscapeText(fmt.Sprintf("%s: not verified: %v", conda.Redact(r.Package.URL), r.Err)))
			continue
		case r.Report.Outcome == policy.Fail:
			failed++
			annotate(stdout, "error", lockPath, line, message(r.Report))
		case r.Report.Outcome == policy.Warn:
			warned++
			annotate(stdout, "warning", lockPath, line, message(r.Report))
		default:
			passed++
		}
		if r.Report.Cached {
			cached++
		}
	}
	fmt.Fprintf(stdout, "%s: %d packages: %d passed, %d warned, %d failed; %d skipped (not conda packages); %d verdicts from the cache\n",
		condasigs.EscapeText(lockPath), len(results), passed, warned, failed, len(lf.Skipped), cached)
	if failed > 0 {
		return exitFail
	}
	return exitPass
}

// setPolicy sets opts.Config from the per-channel policy file config, or
// else opts.Policy: the identities (SAN patterns) of issuer, trusted on
// every channel, and the require mode.
func setPolicy(opts *condasigs.Options, config string, identities []string, issuer, require string) error {
	if config != "" {
		if len(identities) > 0 {
			return errors.New("-config replaces -identity, -issuer and -require: give one or the other")
		}
		cfg, err := policy.LoadConfig(config)
		if err != nil {
			return err
		}
		opts.Config = &cfg
		return nil
	}
	opts.Policy = policy.Policy{Require: policy.Mode(require)}
	for _, san := range identities {
		opts.Policy.Identities = append(opts.Policy.Identities, policy.Identity{SAN: san, Issuer: issuer})
	}
	return nil
}

// loadTrust returns the trusted root: the trusted_root.json file at path
// when it is set, else the Sigstore public-good TUF repository (cached on
// disk, refreshed in the background until the returned function is
// called).
func loadTrust(ctx context.Context, path string, log *slog.Logger) (trustroot.Source, func(), error) {
	if path != "" {
		src, err := trustroot.FromFile(path)
		return src, func() {}, err
	}
	opts := trustroot.PublicGood()
	opts.Logger = log
	tuf, err := trustroot.NewTUF(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	return tuf, func() { tuf.Close() }, nil
}

// dirCache is the cache in the subdirectory name of dir, created private
// and checked; nil, and a warning, when it is not fit.
func dirCache(dir, name string, stderr io.Writer) fetch.Cache {
	c, err := fetch.NewDirCache(filepath.Join(dir, name))
	if err != nil {
		fmt.Fprintf(stderr, "cigate: warning: %s are not cached: %s\n", name, condasigs.EscapeText(err.Error()))
		return nil
	}
	return c
}

// message is an annotation's text: the package, its outcome and the reasons
// that are not informational, one a line. The file name and the messages,
// which quote what channels, certificates and lock files hold, are escaped
// (condasigs.EscapeText): the line breaks are message's own, and nothing in
// them drives a terminal or reorders text.
func message(rep *condasigs.Report) string {
	esc := condasigs.EscapeText
	lines := []string{fmt.Sprintf("%s: %s (%s)", esc(rep.Filename), rep.Outcome, esc(string(rep.Status)))}
	for _, r := range rep.Reasons {
		if r.Severity != policy.SeverityInfo {
			lines = append(lines, fmt.Sprintf("[%s] %s", esc(string(r.Code)), esc(r.Message)))
		}
	}
	return strings.Join(lines, "\n")
}

// annotate prints a GitHub Actions workflow command, e.g.
// ::error file=pixi.lock,line=12::message, escaped as the runner expects.
// Untrusted text in msg must be escaped with condasigs.EscapeText first: the
// runner turns %0A back into a line break of the annotation, and shows the
// rest as it is.
func annotate(w io.Writer, level, file string, line int, msg string) {
	fmt.Fprintf(w, "::%s file=%s,line=%d::%s\n", level, escapeProperty(file), line, escapeData(msg))
}

// escapeData escapes an annotation's message.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property's value, such as the file name.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
