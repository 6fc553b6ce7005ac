package condasigs

import (
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Report is the result of verifying one package: the verdict, why, and the
// evidence of every bundle. It marshals to the JSON the CLI prints.
type Report struct {
	Filename string `json:"filename"`
	// Channel is the channel URL without credentials or query string.
	Channel string `json:"channel"`
	Subdir  string `json:"subdir"`
	// URL is the package URL, redacted.
	URL string `json:"url"`
	// SidecarURL is the content-addressed sidecar URL, redacted; empty when
	// none was advertised.
	SidecarURL string `json:"sidecarURL,omitempty"`
	// PackageSHA256 is the digest the attestations were checked against.
	PackageSHA256 string `json:"packageSHA256,omitempty"`

	Outcome policy.Outcome  `json:"outcome"`
	Status  policy.Status   `json:"status"`
	Reasons []policy.Reason `json:"reasons"`
	// Signer is the trusted identity that the first accepted bundle
	// matched, when the package verified.
	Signer *Signer `json:"signer,omitempty"`
	// Bundles holds the evidence of every bundle in the sidecar.
	Bundles []attest.Evidence `json:"bundles"`
	// Cached is true when Bundles came from Options.VerdictCache: the
	// sidecar was neither retrieved nor verified again.
	Cached bool `json:"cached,omitempty"`

	// PolicyEntry is the policy entry that applied: a channel name or URL
	// as configured, "*" for the catch-all, empty when none did.
	PolicyEntry string `json:"policyEntry,omitempty"`
	// RecordSource names the repodata document the package's record was
	// read from, when condasigs read it (see fetch.Found.Source):
	// "repodata_shards.msgpack.zst", "repodata.json.zst" or
	// "repodata.json"; for a record that could not be read, the document
	// that failed. Empty when the caller gave the record.
	RecordSource string `json:"recordSource,omitempty"`
	// Pinning is the signer as identity pinning sees it, when the channel's
	// policy pins.
	Pinning *PinInfo `json:"pin,omitempty"`

	// TrustRoot says which trusted material the bundles were checked
	// against, and Thresholds which Sigstore checks were required.
	TrustRoot *trustroot.Info `json:"trustRoot,omitempty"`
	// TrustRootAge is how long ago a TUF trusted root was last updated,
	// at verification time, e.g. "26h0m0s"; empty for other kinds.
	TrustRootAge string             `json:"trustRootAge,omitempty"`
	Thresholds   *attest.Thresholds `json:"thresholds,omitempty"`
}

// PinInfo is the pin a verified package's signer makes.
type PinInfo struct {
	// Channel and Package key the pin: the canonical channel URL and the
	// package name.
	Channel string              `json:"channel"`
	Package string              `json:"package"`
	Signer  policy.PinnedSigner `json:"signer"`
}

// Signer is the verified signer of an accepted bundle and the policy entry
// that trusted it.
type Signer struct {
	SAN     string          `json:"san"`
	Issuer  string          `json:"issuer"`
	Matched policy.Identity `json:"matched"`
}
