package trustroot_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Load a pinned trusted_root.json for offline verification.
func ExampleFromFile() {
	trust, err := trustroot.FromFile("../examples/quickstart/trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, _ := trust.Snapshot(context.Background())
	fmt.Println(snap.Info.Kind, len(snap.Material.FulcioCertificateAuthorities()) > 0)
	// Output:
	// file true
}

// Trust several Sigstore instances at once, offline: the public-good
// instance and GitHub's (whose root lists no transparency log, accepted
// only beside one that does). Each bundle is verified against the instance
// whose CA issued its certificate, never against a pool of all of them.
func ExampleFromFile_several() {
	trust, err := trustroot.FromFile(
		"../examples/quickstart/trusted_root.json",
		"../internal/fixtures/data/github.trusted_root.json",
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, err := trust.Snapshot(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	set := snap.Material.(interface{ Members() []root.TrustedMaterial })
	fmt.Println(snap.Info.Kind, len(set.Members()), "instances")
	fmt.Println(strings.HasPrefix(snap.Info.Digest, "sha256:")) // keys verdict caches

	_, err = trustroot.FromFile("../internal/fixtures/data/github.trusted_root.json")
	fmt.Println(err)
	// Output:
	// file 2 instances
	// true
	// trustroot: ../internal/fixtures/data/github.trusted_root.json: the trusted root lists no transparency log: CEP 27 requires every attestation to be logged, so none could verify against it
}

// Combine sources of any kind, e.g. the public-good TUF repository and a
// private instance's trusted_root.json; here two files, the public-good
// and the staging instances. A refresh of a TUF member shows in the next
// Snapshot.
func ExampleCombine() {
	publicGood, err := trustroot.FromFile("../examples/quickstart/trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	staging, err := trustroot.FromFile("../internal/fixtures/data/staging.trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	trust := trustroot.Combine(publicGood, staging)

	snap, err := trust.Snapshot(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Info.Kind, snap.Info.Source)
	v, err := attest.NewVerifier(snap.Material)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The same package, attested on each instance.
	for _, b := range []struct{ bundle, channel string }{
		{fixtures.BundleFile, "https://prefix.dev/sigstore-example"},
		{fixtures.StagingBundleFile, "https://example.com/my-channel"},
	} {
		ev := v.VerifyBundle(0, fixtures.Read(b.bundle), attest.Subject{
			Filename: "signed-package-2.1.0-hb0f4dca_0.conda",
			SHA256:   "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
			Channel:  b.channel,
		})
		if !ev.Verified {
			fmt.Println(ev.Code, ev.Message)
			continue
		}
		fmt.Println(ev.Issuer, "logged in", ev.LogEntries[0].LogURL)
	}
	// Output:
	// set file ../examples/quickstart/trusted_root.json; file ../internal/fixtures/data/staging.trusted_root.json
	// https://token.actions.githubusercontent.com logged in https://rekor.sigstore.dev
	// https://github.com/login/oauth logged in https://log2025-alpha3.rekor.sigstage.dev
}

// Follow the Sigstore public-good TUF repository: the trusted root is
// loaded at start (from the disk cache when the repository cannot be
// reached), then refreshed in the background until Close. This example
// needs the network, so it is compiled but not run.
func ExampleNewTUF() {
	ctx := context.Background()
	opts := trustroot.PublicGood()                       // or trustroot.Staging(), or a private instance's URL and root.json
	opts.HTTPClient = &http.Client{Timeout: time.Minute} // proxies, TLS roots: all TUF traffic goes through it
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	trust, err := trustroot.NewTUF(ctx, opts) // ctx bounds the source's life, not just this call
	if err != nil {
		fmt.Println(err)
		return
	}
	defer trust.Close() // stops the background refresh

	// A failed background refresh leaves the last good root in use.
	if err := trust.LastError(); err != nil {
		fmt.Println("the last refresh failed; the last good root stays in use:", err)
	}
	snap, err := trust.Snapshot(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Info.Source, "updated", snap.Info.LoadedAt, "expires", snap.Info.Expires, "from cache", snap.Info.FromCache)
}
