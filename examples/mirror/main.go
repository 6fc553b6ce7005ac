// Mirror copies the packages of a conda channel, with their attestation
// sidecars, into a local directory, following the mirror rules of CEP 50:
//
//  1. fetch the content-addressed sidecar <package>.sigs.<attestations_sha256>
//     and check its hash against repodata;
//  2. make the immutable sidecar available, bytes untouched;
//  3. update the mutable <package>.sigs to the same bytes;
//  4. publish the repodata that references it, last, unchanged, so that
//     attestations_sha256 is kept;
//  5. serve both URLs byte for byte (any static file server will do);
//  6. keep old immutable sidecars as long as their package is available
//     (this program never deletes a file).
//
// A package whose sidecar cannot be obtained intact (a 404, a hash
// mismatch) is refused, and the subdir's repodata.json is then not
// published: the mirror keeps serving its previous, consistent state.
//
//	go run ./examples/mirror -source https://prefix.dev/sigstore-example -subdir linux-64 -dest ./mirror
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Exit statuses.
const (
	exitOK      = 0 // every subdir mirrored and published
	exitRefused = 1 // a package was refused: its subdir's repodata was not published
	exitUsage   = 2 // bad flags, or the source or destination unusable
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// mirror is one run's configuration.
type mirror struct {
	source  string // channel URL, no trailing slash
	channel string // the channel the attestations name, when source is itself a copy
	dest    string // destination channel directory
	fetcher *fetch.Client
	v       *condasigs.Verifier // nil: copy without verifying
	out     io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mirror", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "URL of the channel to mirror (http, https or file)")
	dest := fs.String("dest", "", "destination directory: the mirrored channel's root")
	channel := fs.String("channel", "", "with -verify: the channel the packages were published to, when -source is itself a mirror or copy of it")
	var subdirs []string
	fs.Func("subdir", "subdir to mirror, e.g. linux-64 (repeatable)", func(s string) error {
		subdirs = append(subdirs, s)
		return nil
	})
	verify := fs.Bool("verify", false, "verify each package's attestations before copying it; refuse those that fail")
	var identities []string
	fs.Func("identity", "with -verify: trusted signer: a SAN `pattern`, * matching any run (repeatable)", func(san string) error {
		identities = append(identities, san)
		return nil
	})
	issuer := fs.String("issuer", "https://token.actions.githubusercontent.com", "with -verify: OIDC issuer of the -identity signers")
	require := fs.String("require", "error", "with -verify: missing or failing attestations: error, warn or ignore")
	trustedRoot := fs.String("trusted-root", "", "with -verify: trusted_root.json (default: the Sigstore public-good TUF repository)")
	timeout := fs.Duration("timeout", 10*time.Minute, "time limit of one download")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *source == "" || *dest == "" || len(subdirs) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: mirror -source URL -subdir NAME [-subdir NAME...] -dest DIR [-verify -identity PATTERN...]")
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	m := &mirror{
		source:  strings.TrimRight(*source, "/"),
		channel: *channel,
		dest:    *dest,
		// file:// is allowed: the source is the operator's choice, not
		// input from elsewhere.
		fetcher: fetch.New(fetch.Options{AllowFile: true, Timeout: *timeout, Logger: log}),
		out:     stdout,
	}
	if *verify {
		trust, closeTrust, err := loadTrust(ctx, *trustedRoot, log)
		if err != nil {
			fmt.Fprintln(stderr, "mirror:", condasigs.EscapeText(err.Error()))
			return exitUsage
		}
		defer closeTrust()
		// The policy: the -identity signers of -issuer, on every channel.
		pol := policy.Policy{Require: policy.Mode(*require)}
		for _, san := range identities {
			pol.Identities = append(pol.Identities, policy.Identity{SAN: san, Issuer: *issuer})
		}
		opts := condasigs.Options{Trust: trust, Policy: pol, Fetcher: m.fetcher, Logger: log}
		if m.v, err = condasigs.New(opts); err != nil {
			fmt.Fprintln(stderr, "mirror:", condasigs.EscapeText(err.Error()))
			return exitUsage
		}
	}

	for _, subdir := range subdirs {
		if err := checkFilename(subdir); err != nil {
			fmt.Fprintln(stderr, "mirror: -subdir:", condasigs.EscapeText(err.Error()))
			return exitUsage
		}
	}

	code := exitOK
	for _, subdir := range subdirs {
		refused, err := m.mirrorSubdir(ctx, subdir)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "mirror: %s: %s\n", subdir, condasigs.EscapeText(err.Error()))
			return exitUsage
		case refused > 0:
			fmt.Fprintf(stdout, "%s: %d packages refused: repodata.json not published, the mirror keeps its previous state\n", subdir, refused)
			code = exitRefused
		}
	}
	return code
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

// mirrorSubdir mirrors one subdir and returns how many packages it refused.
// Its repodata.json is published last, and only when every package and
// sidecar it references is in place. The error is for what stops the whole
// subdir: its repodata unreadable, the destination unwritable.
func (m *mirror) mirrorSubdir(ctx context.Context, subdir string) (int, error) {
	// The repodata's bytes are kept as they are: they are published
	// unchanged, attestations_sha256 included.
	body, err := m.fetcher.OpenRepodata(ctx, m.source+"/"+subdir+"/repodata.json")
	if err != nil {
		return 0, err
	}
	repodata, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return 0, err
	}
	var pkgs []condasigs.Package
	var bad error
	seen := map[string]bool{}
	err = fetch.ScanRepodata(bytes.NewReader(repodata), func(rec fetch.Record) bool {
		// The file names become paths under dest: refuse any that is not
		// one plain name, and any listed twice (which record wins is
		// ambiguous).
		if bad = checkFilename(rec.Filename); bad == nil && seen[rec.Filename] {
			bad = fmt.Errorf("repodata lists %q twice", rec.Filename)
		}
		seen[rec.Filename] = true
		pkgs = append(pkgs, condasigs.Package{URL: m.source + "/" + subdir + "/" + rec.Filename, Channel: m.channel, Record: rec})
		return bad == nil
	})
	if err = errors.Join(err, bad); err != nil {
		return 0, fmt.Errorf("repodata.json: %w", err)
	}
	dir := filepath.Join(m.dest, subdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}

	refusals := make([]error, len(pkgs))
	if m.v != nil {
		for i, r := range m.v.VerifyAll(ctx, pkgs, condasigs.BatchOptions{}) {
			refusals[i] = verdict(r)
		}
	}
	refused := 0
	for i, p := range pkgs {
		if refusals[i] == nil {
			refusals[i] = m.copyPackage(ctx, dir, p)
		}
		if err := ctx.Err(); err != nil {
			return refused, err
		}
		if refusals[i] != nil {
			refused++
			fmt.Fprintf(m.out, "%s/%s: refused: %s\n", subdir, condasigs.EscapeText(p.Record.Filename), condasigs.EscapeText(refusals[i].Error()))
		}
	}
	if refused > 0 {
		return refused, nil
	}
	if err := writeFile(filepath.Join(dir, "repodata.json"), repodata); err != nil {
		return 0, err
	}
	fmt.Fprintf(m.out, "%s: repodata.json published, %d packages\n", subdir, len(pkgs))
	return 0, nil
}

// verdict turns a verification result into a refusal, or nil.
func verdict(r condasigs.Result) error {
	switch {
	case r.Err != nil:
		return r.Err
	case r.Report.Outcome == policy.Fail:
		var msgs []string
		for _, reason := range r.Report.Reasons {
			if reason.Severity == policy.SeverityError {
				msgs = append(msgs, fmt.Sprintf("[%s] %s", reason.Code, reason.Message))
			}
		}
		return fmt.Errorf("verification failed: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// copyPackage copies a package and, when its record advertises one, its
// sidecar: the package, then the immutable sidecar, then the mutable one.
func (m *mirror) copyPackage(ctx context.Context, dir string, p condasigs.Package) error {
	rec := p.Record
	what, err := m.copyArtifact(ctx, dir, p)
	if err != nil {
		return err
	}
	if rec.HasAttestations() {
		// FetchSidecar checks attestations_sha256 (64 lowercase hex), uses
		// the content-addressed URL and compares the bytes' hash with it.
		immutable := filepath.Join(dir, rec.Filename+".sigs."+rec.AttestationsSHA256)
		data, err := os.ReadFile(immutable)
		if err != nil || sha256Hex(data) != rec.AttestationsSHA256 {
			sc, err := m.fetcher.FetchSidecar(ctx, p.URL, rec)
			if err != nil {
				return fmt.Errorf("sidecar: %w", err)
			}
			data = sc.Data
			if err := writeFile(immutable, data); err != nil {
				return err
			}
		}
		if err := writeFile(filepath.Join(dir, rec.Filename+".sigs"), data); err != nil {
			return err
		}
		what += ", sidecar " + rec.AttestationsSHA256[:12]
	}
	fmt.Fprintf(m.out, "%s/%s: %s\n", filepath.Base(dir), condasigs.EscapeText(rec.Filename), what)
	return nil
}

// copyArtifact downloads the package file unless the mirror has it already,
// checks its size and sha256 against the record, and writes it in place.
func (m *mirror) copyArtifact(ctx context.Context, dir string, p condasigs.Package) (string, error) {
	rec := p.Record
	if rec.SHA256 == "" {
		return "", errors.New("the record has no sha256 to check the package against")
	}
	path := filepath.Join(dir, rec.Filename)
	if sum, err := fileSHA256(path); err == nil && sum == rec.SHA256 {
		return "present", nil
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	// Streamed to the file, capped by the record's size, and hashed.
	got, err := m.fetcher.DownloadPackage(ctx, p.URL, rec.Size, tmp)
	if err == nil {
		err = tmp.Chmod(0o644) // served to everyone, like the source
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if got.SHA256 != rec.SHA256 {
		return "", fmt.Errorf("the package hashes to %s, repodata lists %s", got.SHA256, rec.SHA256)
	}
	return "copied", os.Rename(tmp.Name(), path)
}

// checkFilename accepts a package file name or subdir that is one plain
// path element.
func checkFilename(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	return nil
}

// writeFile writes data to path atomically: readers of the mirror see the
// old file or the new one, never part of either.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644) // served to everyone, like the source
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
