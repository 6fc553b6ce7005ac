// Package condasigs verifies the Sigstore attestations of conda packages on
// the client side, as conda CEP 50 distributes them and CEP 27 defines them.
//
// Data flows one way, through one subpackage per step:
//
//	record --fetch--> sidecar bytes --attest+trustroot--> evidence --policy--> Report
//
// Package [conda] holds the naming and URL rules every step shares, with
// no I/O (package file names and URLs, the content-addressed sidecar URL
// <package-url>.sigs.<attestations_sha256>, channel URLs in canonical
// form, redaction). Package [fetch] reads repodata records (each channel
// and subdir once: [fetch.Resolve]), retrieves the sidecar with a size cap
// and retries, and checks its hash before anything parses it. Package
// [lockfile] reads the packages of lock files.
// Package [attest] verifies every bundle with sigstore-go against the trusted
// material, then checks the CEP 27 statement: predicate type, one subject,
// filename, sha256, targetChannel. Package [trustroot] supplies the trusted
// material: a TUF repository refreshed in the background, or a
// trusted_root.json file for offline use. Package [policy] turns the evidence
// into a verdict: require mode, trusted identities, targetChannel mismatches.
//
// A [Verifier] composes them. Build it once and share it:
//
//	trust, _ := trustroot.FromFile("trusted_root.json")
//	v, _ := condasigs.New(condasigs.Options{Trust: trust, Policy: policy.Policy{
//		Identities: []policy.Identity{{SAN: "https://github.com/my-org/*", Issuer: "https://token.actions.githubusercontent.com"}},
//	}})
//	report, err := v.Verify(ctx, condasigs.Package{URL: pkgURL, Record: record}) // no Record: read from the channel
//	// report.Outcome is pass, warn or fail; err is only for misuse,
//	// cancellation or an unusable trust root.
//
// [Verifier.VerifyAll] verifies a whole transaction before anything is
// installed: retrievals and verifications run in two bounded pools and
// each distinct sidecar is fetched once. [Verifier.VerifyLocked] does the
// same for the packages of a lock file (see [lockfile.Read]), reading
// their records from each channel's repodata.json. With a sidecar cache
// ([fetch.Options].Cache) and a verdict cache ([Options].VerdictCache), an
// unchanged environment is verified again without a request or a
// signature check.
//
// Failure codes and the JSON report (version 1, docs/report.schema.json)
// are stable; the Go API may still change before 1.0. See
// docs/compatibility.md for the supported Go, Sigstore and CEP versions,
// and CHANGELOG.md for what changed.
package condasigs
