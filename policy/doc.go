// Package policy decides what a package's attestations mean for its
// installation: pass, warn or fail.
//
// A [Policy] names the require mode (what to do when attestations are
// missing, cannot be retrieved, or do not verify), the trusted identities
// (certificate SAN patterns, each with the OIDC issuer it must come from),
// what a targetChannel mismatch does, and what an attestation of an unknown
// predicate type does. A [Config] holds one Policy per channel (by name or
// URL, with mirrors) and an optional catch-all ([Config.Default], the "*"
// entry of a file); [LoadConfig] and [ParseConfig] read it from a YAML or
// JSON file with errors that name the line. [CompileConfig] checks it once
// and turns it into a [CompiledConfig], whose For picks the [Match] for a
// channel; [Match.Decide] turns the evidence of one package into a
// [Decision] following the require table:
//
//	require | missing | retrieval failure | verification failure
//	error   | fail    | fail              | fail
//	warn    | warn    | warn              | warn
//	ignore  | pass    | warn              | warn
//
// A package passes only when at least one bundle both verifies and matches a
// trusted identity. Valid bundles from other signers are reported, not
// counted; an invalid bundle beside an accepted one is a tampering signal
// and turns a pass into a warning.
//
// A disabled or unconfigured channel gets a Match that decides so. A
// [PinStore] records the first verified signer of each package (trust on
// first use) for policies that pin.
package policy
