package condasigs_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// The examples verify a real package, signed in GitHub Actions and logged
// in the public-good Rekor, from a local copy of the channel it was
// published to (https://prefix.dev/sigstore-example), offline, against a
// pinned copy of the public-good trusted root.
const (
	exampleTrustedRoot = "examples/quickstart/trusted_root.json"
	exampleChannelDir  = "examples/quickstart/channel"
	exampleFilename    = "signed-package-2.1.0-hb0f4dca_0.conda"
	exampleSHA256      = "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f"
	exampleUpstream    = "https://prefix.dev/sigstore-example"
)

// exampleIdentity is the signer the examples trust: the workflows of the
// repository that published the package.
var exampleIdentity = policy.Identity{
	SAN:    "https://github.com/prefix-dev/sigstore-example/*",
	Issuer: "github", // https://token.actions.githubusercontent.com
}

// exampleChannelURL returns the file:// URL of the local channel copy.
func exampleChannelURL() string {
	dir, err := filepath.Abs(exampleChannelDir)
	if err != nil {
		panic(err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

// Verify a real package from a local copy of its channel, offline, against
// the pinned Sigstore public-good trusted root.
func Example() {
	ctx := context.Background()
	trust, err := trustroot.FromFile("examples/quickstart/trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	fetcher := fetch.New(fetch.Options{AllowFile: true}) // local channels are read through file:// URLs
	v, err := condasigs.New(condasigs.Options{
		Trust: trust,
		Policy: policy.Policy{Identities: []policy.Identity{{
			SAN:    "https://github.com/prefix-dev/sigstore-example/*",
			Issuer: "https://token.actions.githubusercontent.com",
		}}},
		Fetcher: fetcher,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	dir, _ := filepath.Abs("examples/quickstart/channel/linux-64")
	subdir := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
	repodata, err := os.Open(filepath.Join(dir, "repodata.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer repodata.Close()
	const filename = "signed-package-2.1.0-hb0f4dca_0.conda"
	found, err := fetch.FindRecords(repodata, []string{filename})
	if err == nil {
		err = found[filename].Err
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	record := found[filename].Record

	report, err := v.Verify(ctx, condasigs.Package{
		URL:     subdir + "/" + record.Filename,
		Channel: "https://prefix.dev/sigstore-example", // the channel this local copy was taken from
		Record:  record,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Outcome, report.Status)
	fmt.Println(report.Signer.SAN)
	// Output:
	// pass verified
	// https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main
}

// Verify a transaction's packages at once, before installing any: here
// the signed package, a record that advertises no attestations, and the
// signed package's record with bytes that are not the published ones.
// Results come back in input order.
func ExampleVerifier_VerifyAll() {
	trust, err := trustroot.FromFile(exampleTrustedRoot)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := condasigs.New(condasigs.Options{
		Trust:   trust,
		Policy:  policy.Policy{Require: policy.ModeError, Identities: []policy.Identity{exampleIdentity}},
		Fetcher: fetch.New(fetch.Options{AllowFile: true}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	subdir := exampleChannelURL() + "/linux-64"
	signed := fetch.Record{Filename: exampleFilename, SHA256: exampleSHA256,
		AttestationsSHA256: "50d02de145d1f71b12cde241a6ba1dba68b9f7ff32eba233e89345927beded69"}
	unsigned := fetch.Record{Filename: "unsigned-1.0-0.conda"} // no attestations_sha256
	pkgs := []condasigs.Package{
		{URL: subdir + "/" + signed.Filename, Channel: exampleUpstream, Record: signed},
		{URL: subdir + "/" + unsigned.Filename, Channel: exampleUpstream, Record: unsigned},
		{URL: subdir + "/" + signed.Filename, Channel: exampleUpstream, Record: signed,
			ArtifactSHA256: "0000000000000000000000000000000000000000000000000000000000000000"},
	}

	done := 0
	results := v.VerifyAll(context.Background(), pkgs, condasigs.BatchOptions{
		Progress: func(n, total int, r condasigs.Result) { done = n }, // e.g. draw a progress bar
	})
	fmt.Println(done, "of", len(pkgs), "done")
	for _, r := range results {
		if r.Err != nil { // misuse, cancellation or an unusable trust root
			fmt.Println(r.Package.Record.Filename, r.Err)
			continue
		}
		fmt.Println(r.Report.Filename, r.Report.Outcome, r.Report.Status)
		for _, reason := range r.Report.Reasons {
			fmt.Printf("  %s: %s\n", reason.Code, reason.Message)
		}
	}
	// Output:
	// 3 of 3 done
	// signed-package-2.1.0-hb0f4dca_0.conda pass verified
	// unsigned-1.0-0.conda fail unsigned
	//   unsigned: the package has no attestations and the policy requires them; to accept unsigned packages from this channel, set require to warn or ignore
	// signed-package-2.1.0-hb0f4dca_0.conda fail verification-failure
	//   artifact-mismatch: the package bytes hash to 0000000000000000000000000000000000000000000000000000000000000000 but repodata lists 54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f: this is not the package the channel published
}

// Verify the packages a lock file names. The lock file here is a conda
// explicit file naming the package in the local copy of its channel; a
// pixi.lock or a conda-lock.yml is read the same way. Each package's
// record comes from its channel's repodata.json. The attestation names
// the upstream channel as its targetChannel, so the policy lists the local
// copy as a mirror of it.
func ExampleVerifier_VerifyLocked() {
	dir, err := os.MkdirTemp("", "condasigs-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	local := exampleChannelURL()
	lockPath := filepath.Join(dir, "explicit.txt")
	explicit := "# platform: linux-64\n@EXPLICIT\n" + local + "/linux-64/" + exampleFilename + "#" + exampleSHA256 + "\n"
	if err := os.WriteFile(lockPath, []byte(explicit), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	lf, err := lockfile.Read(lockPath)
	if err != nil {
		fmt.Println(err) // FILE:LINE: what is wrong
		return
	}
	trust, err := trustroot.FromFile(exampleTrustedRoot)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := condasigs.New(condasigs.Options{
		Trust: trust,
		Config: &policy.Config{Channels: []policy.ChannelPolicy{{
			Channel: exampleUpstream,
			Enabled: true,
			Mirrors: []string{local}, // serves the upstream channel's packages unchanged
			Policy:  policy.Policy{Require: policy.ModeError, Identities: []policy.Identity{exampleIdentity}},
		}}},
		Fetcher: fetch.New(fetch.Options{AllowFile: true}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(lf.Format, len(lf.Packages), "package(s)")
	for _, r := range v.VerifyLocked(context.Background(), lf.Packages, condasigs.BatchOptions{}) {
		if r.Err != nil {
			fmt.Println(r.Err)
			continue
		}
		rep := r.Report
		fmt.Println(rep.Filename, rep.Outcome, rep.Status)
		fmt.Println("  policy entry:", rep.PolicyEntry)
		fmt.Println("  targetChannel:", rep.Bundles[0].TargetChannel, rep.Bundles[0].ChannelMatch)
	}
	// Output:
	// explicit 1 package(s)
	// signed-package-2.1.0-hb0f4dca_0.conda pass verified
	//   policy entry: https://prefix.dev/sigstore-example
	//   targetChannel: https://prefix.dev/sigstore-example match
}

// Keep sidecars and verdicts between runs: the second run, by a new
// Verifier as in a new process, neither fetches the sidecar nor checks a
// signature. The policy is still applied afresh.
func ExampleNew_caches() {
	dir, err := os.MkdirTemp("", "condasigs-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	trust, err := trustroot.FromFile(exampleTrustedRoot)
	if err != nil {
		fmt.Println(err)
		return
	}
	pkg := condasigs.Package{
		URL:     exampleChannelURL() + "/linux-64/" + exampleFilename,
		Channel: exampleUpstream,
		Record: fetch.Record{Filename: exampleFilename, SHA256: exampleSHA256,
			AttestationsSHA256: "50d02de145d1f71b12cde241a6ba1dba68b9f7ff32eba233e89345927beded69"},
	}

	// Each directory is created private (0700) and checked: a directory
	// others could write is refused with an error wrapping
	// fetch.ErrCacheDirNotPrivate that says how to fix it.
	sidecars, err := fetch.NewDirCache(filepath.Join(dir, "sidecars")) // by SHA-256, hashed again on read
	if err != nil {
		fmt.Println(err)
		return
	}
	verdicts, err := fetch.NewDirCache(filepath.Join(dir, "verdicts")) // trusted as read back: it decides
	if err != nil {
		fmt.Println(err)
		return
	}
	for run := 1; run <= 2; run++ {
		v, err := condasigs.New(condasigs.Options{
			Trust:        trust,
			Policy:       policy.Policy{Identities: []policy.Identity{exampleIdentity}},
			Fetcher:      fetch.New(fetch.Options{AllowFile: true, Cache: sidecars}),
			VerdictCache: verdicts,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		report, err := v.Verify(context.Background(), pkg)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d: %s, cached %v\n", run, report.Outcome, report.Cached)
	}
	// Output:
	// run 1: pass, cached false
	// run 2: pass, cached true
}

// Text from a channel, a certificate or a lock file may hold line breaks,
// terminal escapes or CI commands: escape it before printing it.
func ExampleEscapeText() {
	filename := "evil\n::warning::all packages passed\x1b[2J-1.0-0.conda"
	fmt.Println("FAIL", condasigs.EscapeText(filename))
	// Output:
	// FAIL evil\n::warning::all packages passed\x1b[2J-1.0-0.conda
}
