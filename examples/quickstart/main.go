// Quickstart verifies a real, Sigstore-signed conda package fully offline.
//
// The directory channel/ is a local copy of the linux-64 subdir of
// https://prefix.dev/sigstore-example: a repodata.json whose record carries
// attestations_sha256, the package, and its content-addressed sidecar. The
// attestation was made by GitHub Actions and logged in Sigstore's public-good
// Rekor; trusted_root.json is the public-good trusted root. Run it from the
// repository's root:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

const (
	filename = "signed-package-2.1.0-hb0f4dca_0.conda"
	// upstream is the channel the local copy was taken from, and the
	// channel the attestation names as its target.
	upstream = "https://prefix.dev/sigstore-example"
)

func main() {
	dir := flag.String("dir", filepath.Join("examples", "quickstart"), "the quickstart's directory")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", condasigs.EscapeText(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dir string) error {
	// 1. The trusted material: a pinned trusted_root.json, no network.
	trust, err := trustroot.FromFile(filepath.Join(dir, "trusted_root.json"))
	if err != nil {
		return fmt.Errorf("%w (run from the repository root, or pass -dir)", err)
	}

	// 2. The policy: who may sign packages of this channel.
	pol := policy.Policy{
		Require: policy.ModeError,
		Identities: []policy.Identity{{
			SAN:    "https://github.com/prefix-dev/sigstore-example/.github/workflows/*@refs/heads/main",
			Issuer: "https://token.actions.githubusercontent.com",
		}},
	}

	// 3. A verifier, built once. The local channel is read through file://
	// URLs, which must be allowed explicitly.
	fetcher := fetch.New(fetch.Options{AllowFile: true})
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: pol, Fetcher: fetcher})
	if err != nil {
		return err
	}

	// 4. The package's record, from the channel's repodata.json.
	abs, err := filepath.Abs(filepath.Join(dir, "channel"))
	if err != nil {
		return err
	}
	channelURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	repodata, err := fetcher.OpenRepodata(ctx, channelURL+"/linux-64/repodata.json")
	if err != nil {
		return err
	}
	defer repodata.Close()
	found, err := fetch.FindRecords(repodata, []string{filename})
	if err != nil {
		return err
	}
	record := found[filename].Record
	if err := found[filename].Err; err != nil {
		return err
	}

	// 5. The package bytes we "downloaded", hashed: the attestation must
	// name exactly these bytes.
	data, err := os.ReadFile(filepath.Join(abs, "linux-64", filename))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)

	// 6. Verify: fetch the sidecar, check its hash, verify the bundle,
	// check the CEP 27 statement, apply the policy.
	report, err := v.Verify(ctx, condasigs.Package{
		URL:            channelURL + "/linux-64/" + filename,
		Channel:        upstream,
		Record:         record,
		ArtifactSHA256: hex.EncodeToString(sum[:]),
	})
	if err != nil {
		return err
	}

	// 7. Print the report. Names, identities and messages come from the
	// channel and the certificate: escape them before they reach a
	// terminal or a CI log.
	esc := condasigs.EscapeText
	fmt.Fprintf(w, "%s: %s (%s)\n", esc(report.Filename), report.Outcome, report.Status)
	if report.Signer != nil {
		fmt.Fprintf(w, "  signed by %s\n  issuer    %s\n", esc(report.Signer.SAN), esc(report.Signer.Issuer))
	}
	for _, b := range report.Bundles {
		for _, e := range b.LogEntries {
			fmt.Fprintf(w, "  logged in %s at index %d, %s\n", esc(e.LogURL), e.Index, e.IntegratedTime.Format("2006-01-02 15:04:05 MST"))
		}
		if b.Claims != nil {
			fmt.Fprintf(w, "  built from %s at %s\n", esc(b.Claims.SourceRepositoryURI), esc(b.Claims.SourceRepositoryRef))
		}
	}
	for _, r := range report.Reasons {
		fmt.Fprintf(w, "  %s: %s\n", r.Severity, esc(r.Message))
	}
	if report.Outcome == policy.Fail {
		return fmt.Errorf("%s failed verification", esc(report.Filename))
	}
	return nil
}
