// Package conda holds the rules of conda naming and URLs that every other
// package of condasigs shares, with no I/O: package file names
// ([ParseFilename]), package URLs split into channel, subdir and file name
// ([SplitPackageURL]), the content-addressed sidecar URL of CEP 50
// ([SidecarURL], [ValidateDigest]), the canonical form channels are
// compared by ([NormalizeChannel], [ChannelURL]) and URLs fit for printing
// ([Redact]).
//
// It plays the part x/mod's module package plays for sumdb and modfile:
// retrieval (fetch), evidence (attest) and policy all import it, and it
// imports none of them.
package conda
