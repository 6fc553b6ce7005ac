package main

// download-sidecar: a package's sidecar, hash-checked against its record
// and written as it is, to carry to an air-gapped machine with the package.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// downloadFlags are download-sidecar's flags.
type downloadFlags struct {
	outputDir      string
	repodata       string
	recordSources  []string
	maxSidecarSize int64
	timeout        time.Duration
	verbose        bool
}

func newDownloadSidecarCommand() *cobra.Command {
	var f downloadFlags
	cmd := &cobra.Command{
		Use:   "download-sidecar [flags] PACKAGE-URL...",
		Short: "Download the sidecars of packages, to verify them later with verify --bundle",
		Long: `Download the sidecar (the attestations) of each package, for verification
where there is no network: an air-gapped machine, a release pipeline.

Each PACKAGE-URL's record is read as verify reads it (its channel's
repodata, or --repodata); the sidecar is fetched from its content-addressed
URL, its bytes are checked against the record's attestations_sha256, and
it is written as it is to --output-dir under its CEP 50 name,
<filename>.sigs.<attestations_sha256>. Nothing is verified here: carry the
file with the package and run, on the other machine,

  condasigs verify --bundle <filename>.sigs.<sha256> --channel <channel> ... <filename>

which checks that the file still hashes to its name.

Exit status: 0 when every sidecar was written, 2 otherwise (each failure is
said on stderr): a package without attestations, a record or sidecar that
could not be retrieved, a sidecar whose bytes are not the advertised ones.`,
		Example: `  condasigs download-sidecar --output-dir carry/ \
    https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda`,
		Args: wantArgs(1, -1, "at least one PACKAGE-URL (<channel>/<subdir>/<filename>, http, https or file) whose sidecar to download", "https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDownloadSidecar(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.outputDir, "output-dir", "o", ".", "directory to write the sidecars to (created if missing)")
	fl.StringVar(&f.repodata, "repodata", "", "read records from this repodata.json file instead of the channel's")
	fl.StringSliceVar(&f.recordSources, "record-source", nil, "where records are read from, in the order tried: shards, zst, json, as for verify (default shards,zst,json)")
	fl.Int64Var(&f.maxSidecarSize, "max-sidecar-size", defaultMaxSidecarSize, "sidecar size cap in bytes (positive)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "overall time limit")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log requests and retries to stderr")
	return cmd
}

// checkDownloadFlags rejects flag values download-sidecar cannot use.
func checkDownloadFlags(cmd *cobra.Command, f downloadFlags) ([]string, error) {
	fl := cmd.Flags()
	if f.outputDir == "" {
		return nil, usageError("--output-dir is empty: give the directory to write the sidecars to, or leave it out for the current one")
	}
	if fi, err := os.Stat(f.outputDir); err == nil && !fi.IsDir() {
		return nil, usageError("--output-dir %s is not a directory: give the directory to write the sidecars to", f.outputDir)
	}
	if f.maxSidecarSize <= 0 {
		return nil, usageError("--max-sidecar-size must be a positive number of bytes, not %d; leave it out for the default, %d (4 MiB)", f.maxSidecarSize, defaultMaxSidecarSize)
	}
	if f.timeout <= 0 {
		return nil, usageError("--timeout must be positive, not %s", f.timeout)
	}
	if fl.Changed("repodata") {
		if err := checkRepodataFile(f.repodata); err != nil {
			return nil, err
		}
		if fl.Changed("record-source") {
			return nil, usageError("--record-source and --repodata exclude each other: --repodata reads every record from one file")
		}
	}
	return recordSources(f.recordSources)
}

// downloadJobs bounds the records and sidecars fetched at once.
const downloadJobs = 8

// runDownloadSidecar is download-sidecar: every package is tried, each
// failure said, and the run fails if any did.
func runDownloadSidecar(cmd *cobra.Command, f downloadFlags, urls []string) error {
	sources, err := checkDownloadFlags(cmd, f)
	if err != nil {
		return err
	}
	// The file written is named after the URL's file name: packageNames
	// requires a package file name, without separators (a backslash on
	// Windows), as verify --bundle does.
	if _, err := packageNames(urls); err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	warnPlainHTTP(stderr, urls)
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	logger := debugLogger(trustFlags{verbose: f.verbose}, stderr)
	fetcher := fetch.New(fetch.Options{MaxSidecarSize: f.maxSidecarSize, AllowFile: true, Logger: logger, UserAgent: "condasigs", RecordSources: sources})
	var records fetch.RecordSource = fetcher
	if f.repodata != "" {
		records = fileRecords{path: f.repodata}
	}
	if err := os.MkdirAll(f.outputDir, 0o755); err != nil {
		return problem("--output-dir: %v", err)
	}
	dir, err := os.OpenRoot(f.outputDir)
	if err != nil {
		return problem("--output-dir: %v", err)
	}
	defer dir.Close()

	found := fetch.Resolve(ctx, records, urls, downloadJobs)
	names, errs := make([]string, len(urls)), make([]error, len(urls))
	var wg sync.WaitGroup
	slots := make(chan struct{}, downloadJobs)
	for i := range urls {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			names[i], errs[i] = downloadOne(ctx, fetcher, dir, urls[i], found[i])
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return problem("%v", ctx.Err())
	}
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "condasigs: %s: %s\n", textsafe.Escape(conda.Redact(urls[i])), textsafe.Escape(err.Error()))
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s\n", textsafe.Escape(filepath.Join(f.outputDir, names[i])))
	}
	if failed > 0 {
		return exitError{exitProblem}
	}
	return nil
}

// downloadOne fetches the sidecar the record advertises, which FetchSidecar
// checks against attestations_sha256, and writes it, as it is, to dir
// under its CEP 50 name, which it returns.
func downloadOne(ctx context.Context, fetcher *fetch.Client, dir *os.Root, packageURL string, found fetch.Found) (string, error) {
	if found.Err != nil {
		where := ""
		if found.Source != "" {
			where = " (" + found.Source + ")"
		}
		return "", fmt.Errorf("no record of the package%s: %w: check the URL, or give the channel's repodata.json with --repodata", where, found.Err)
	}
	rec := found.Record
	if !rec.HasAttestations() {
		return "", fmt.Errorf("its record has no attestations_sha256: the channel publishes no attestations for %s, so there is no sidecar to download", rec.Filename)
	}
	sc, err := fetcher.FetchSidecar(ctx, packageURL, rec)
	if err != nil {
		return "", fmt.Errorf("%w%s", err, downloadHint(err))
	}
	name := rec.Filename + ".sigs." + sc.SHA256
	if err := atomicfile.WriteFile(dir, name, sc.Data, 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return name, nil
}

// downloadHint says what to do about a retrieval failure.
func downloadHint(err error) string {
	switch {
	case errors.Is(err, fetch.KindHashMismatch):
		return ": the channel serves other bytes than its repodata advertises; nothing was written: do not carry this package's attestations until the channel serves the advertised ones"
	case errors.Is(err, fetch.KindNotFound):
		return ": the channel advertises a sidecar it does not serve; nothing was written"
	case errors.Is(err, fetch.KindTooLarge):
		return ": raise --max-sidecar-size if the sidecar is legitimately that large"
	case errors.Is(err, fetch.KindInvalidDigest):
		return ": the record's attestations_sha256 is malformed; nothing was fetched"
	}
	return ""
}
