// Preflight is a package manager's install preflight: it verifies every
// package of a transaction before anything is installed, shows
// progress, then refuses the whole transaction (exit status 1, listing why)
// or lets it continue (exit status 0, warnings shown), as the policy says.
//
//	go run ./examples/preflight \
//	  -identity 'https://github.com/prefix-dev/sigstore-example/.github/workflows/*@refs/heads/main' \
//	  https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda
//
// Each package's record is read from its channel's repodata.json, as the
// package manager's solver read it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
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
	exitContinue = 0 // every package passed or warned: install
	exitRefuse   = 1 // a package failed, or could not be verified: install nothing
	exitUsage    = 2 // bad flags, configuration or trusted root
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
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
	txFile := fs.String("transaction", "", "file of package URLs, one a line (# comments); added to the arguments")
	verbose := fs.Bool("v", false, "debug log to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: preflight [flags] [PACKAGE-URL...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The transaction: package URLs from the arguments and the file.
	urls := fs.Args()
	if *txFile != "" {
		more, err := readURLs(*txFile)
		if err != nil {
			fmt.Fprintln(stderr, "preflight:", condasigs.EscapeText(err.Error()))
			return exitUsage
		}
		urls = append(urls, more...)
	}
	if len(urls) == 0 {
		fs.Usage()
		return exitUsage
	}

	// Once per process: the policy, the trusted root and the verifier.
	opts := condasigs.Options{Logger: log, Fetcher: fetch.New(fetch.Options{Logger: log})}
	if err := setPolicy(&opts, *config, identities, *issuer, *require); err != nil {
		fmt.Fprintln(stderr, "preflight:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	trust, closeTrust, err := loadTrust(ctx, *trustedRoot, log)
	if err != nil {
		fmt.Fprintln(stderr, "preflight:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}
	defer closeTrust()
	opts.Trust = trust
	v, err := condasigs.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, "preflight:", condasigs.EscapeText(err.Error()))
		return exitUsage
	}

	// The whole transaction at once: records read from each channel's
	// repodata.json (once per channel and subdir), sidecars fetched and
	// verified in two bounded pools, one progress line a package. The
	// attestations are checked against each record's sha256, and the
	// package manager installs each file only if its bytes have that
	// sha256 (InstallerChecksRecords): that binds a pass to what gets
	// installed.
	locked := make([]lockfile.Package, len(urls))
	for i, u := range urls {
		locked[i] = lockfile.Package{URL: u}
	}
	results := v.VerifyLocked(ctx, locked, condasigs.BatchOptions{
		InstallerChecksRecords: true,
		Progress: func(done, total int, r condasigs.Result) {
			outcome := "error"
			if r.Report != nil {
				outcome = string(r.Report.Outcome)
			}
			fmt.Fprintf(stderr, "verifying [%d/%d] %s: %s\n", done, total, condasigs.EscapeText(conda.Redact(r.Package.URL)), outcome)
		},
	})
	return decide(results, stdout)
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

// decide prints the verdict on the transaction and returns the exit status:
// refuse when any package failed or could not be verified, else continue
// and show the warnings.
func decide(results []condasigs.Result, w io.Writer) int {
	var failed, warned []condasigs.Result
	for _, r := range results {
		switch {
		case r.Err != nil || r.Report.Outcome == policy.Fail:
			failed = append(failed, r)
		case r.Report.Outcome == policy.Warn:
			warned = append(warned, r)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "refusing the transaction: %d of %d packages failed verification; nothing will be installed\n", len(failed), len(results))
		for _, r := range failed {
			describe(w, r)
		}
		return exitRefuse
	}
	for _, r := range warned {
		describe(w, r)
	}
	fmt.Fprintf(w, "transaction verified: %d packages, %d passed, %d with warnings; continuing\n",
		len(results), len(results)-len(warned), len(warned))
	for _, r := range results {
		if r.Report.PackageSHA256 != "" {
			fmt.Fprintf(w, "  install %s only if its bytes have sha256 %s\n", condasigs.EscapeText(r.Report.Filename), r.Report.PackageSHA256)
		}
	}
	return exitContinue
}

// describe prints one package's outcome and the reasons for it. Names,
// URLs and messages quote what channels and certificates hold: each is
// escaped (condasigs.EscapeText), so that it stays on its line and drives
// nothing.
func describe(w io.Writer, r condasigs.Result) {
	esc := condasigs.EscapeText
	if r.Err != nil {
		fmt.Fprintf(w, "  %s: not verified: %s\n", esc(conda.Redact(r.Package.URL)), esc(r.Err.Error()))
		return
	}
	fmt.Fprintf(w, "  %s: %s (%s)\n", esc(r.Report.Filename), r.Report.Outcome, esc(string(r.Report.Status)))
	for _, reason := range r.Report.Reasons {
		if reason.Severity != policy.SeverityInfo {
			fmt.Fprintf(w, "    %s [%s]: %s\n", reason.Severity, esc(string(reason.Code)), esc(reason.Message))
		}
	}
}

// readURLs reads a file of package URLs, one a line; blank lines and lines
// starting with # are skipped.
func readURLs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the transaction: %w", err)
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			urls = append(urls, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the transaction %s: %w", path, err)
	}
	if len(urls) == 0 {
		return nil, errors.New("the transaction file " + path + " lists no package")
	}
	return urls, nil
}
