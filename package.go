package condasigs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// Package identifies one package to verify.
type Package struct {
	// URL is the package's URL, <channel>/<subdir>/<filename>, with any
	// query string (a token) the channel needs. If empty, it is built from
	// Channel, Subdir and Record.Filename.
	URL string
	// Channel is the URL of the channel the package belongs to; every
	// attestation's targetChannel is compared with it. It defaults to the
	// channel part of URL. Set it when URL points to a local copy or a
	// mirror of the channel, so that the attestations are checked against
	// the channel they were published for.
	Channel string
	// Subdir is the platform directory, e.g. "linux-64". It defaults to the
	// subdir part of URL.
	Subdir string
	// Record is the package's repodata record. Left empty (the zero
	// Record), it is read from the repodata.json of the URL's channel and
	// subdir (Options.Records), each document once per batch; a record
	// that cannot be read is a retrieval failure (code
	// "record-unavailable") decided by the require table. A package of a
	// disabled channel is reported without its record being read.
	Record fetch.Record
	// ArtifactSHA256 is the SHA-256 (64 hex characters) of the package
	// bytes the caller downloaded, if it has them; anything else is misuse
	// (Verify's error). It must equal Record.SHA256 when both are
	// known, and is what the attestations are checked against. Empty means
	// the record's sha256 is used, for package managers that check the
	// downloaded bytes against the record themselves.
	ArtifactSHA256 string
}

// resolve fills in URL, Channel and Subdir, and returns the subdir of the
// URL.
func (p Package) resolve() (Package, string, error) {
	if p.Record.Filename == "" {
		return p, "", errors.New("condasigs: Package.Record.Filename is empty")
	}
	if p.URL == "" {
		if p.Channel == "" || p.Subdir == "" {
			return p, "", errors.New("condasigs: a Package needs URL, or Channel and Subdir")
		}
		p.URL = strings.TrimRight(p.Channel, "/") + "/" + p.Subdir + "/" + p.Record.Filename
	}
	loc, err := conda.SplitPackageURL(p.URL)
	if err != nil {
		return p, "", err
	}
	if p.ArtifactSHA256 != "" && conda.ValidateDigest(strings.ToLower(p.ArtifactSHA256)) != nil {
		// A typo, or another hash: saying "not the package the channel
		// published" would blame the channel for it.
		return p, "", fmt.Errorf("condasigs: Package.ArtifactSHA256 of %s is not a SHA-256 (64 hexadecimal characters): %q", loc.Filename, textsafe.Clip(p.ArtifactSHA256))
	}
	if loc.Filename != p.Record.Filename {
		return p, "", errors.New("condasigs: the package URL's file name differs from Record.Filename")
	}
	if p.Channel == "" {
		p.Channel = loc.Channel
	}
	if p.Subdir == "" {
		p.Subdir = loc.Subdir
	}
	return p, loc.Subdir, nil
}
