package main

import (
	"net/url"
	"slices"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// verifyEnvHelp says which of verify's flags verify-env takes.
const verifyEnvHelp = `verify-env takes verify's trust, policy and output flags, the identity and
claim flags included (condasigs verify --help says how they pair), and
--channel: the channel every locked package was published to, when the
lock file's URLs point to a mirror or a local copy of it. --artifact and
--repodata are verify's only: the lock file names the packages and their
channels.`

// addEnvChannelFlag adds verify-env's --channel.
func addEnvChannelFlag(fl *pflag.FlagSet, f *verifyFlags) {
	onceStringVar(fl, &f.channel, "channel", "", "URL of the channel every locked package was published to, when the lock file's URLs point to a local copy or mirror of it (compared with each attestation's targetChannel); the lock file's packages must all come from one channel")
}

// checkEnvChannel accepts a --channel only for packages that all come
// from one channel: it names the channel each of them was published to,
// and packages of several channels were published to several.
func checkEnvChannel(name, channel string, pkgs []lockfile.Package) error {
	if channel == "" {
		return nil
	}
	// A set, not a list searched per package: a hostile lock file may
	// name a channel for each of its hundreds of thousands of packages.
	seen := map[string]bool{}
	for _, p := range pkgs {
		loc, err := conda.SplitPackageURL(p.URL)
		if err != nil {
			continue // reported per package
		}
		seen[loc.Channel] = true
	}
	if len(seen) <= 1 {
		return nil
	}
	channels := make([]string, 0, len(seen))
	for c := range seen {
		channels = append(channels, c)
	}
	slices.Sort(channels)
	var shown []string
	for _, c := range channels[:min(len(channels), 3)] {
		shown = append(shown, textsafe.Escape(conda.Redact(c)))
	}
	if len(channels) > 3 {
		shown = append(shown, "...")
	}
	return usageError("--channel names the one channel all packages were published to, but %s has packages of %d channels (%s): verify each channel's packages with its own --channel (and --platform), or leave --channel out and use --channel-mismatch warn for a mirror",
		name, len(channels), strings.Join(shown, ", "))
}

// redactNonURL is a --channel without "://" fit for printing: read as the
// authority and path of a URL, without user information, query or conda
// token ("user:token@host/c" is host/c), or as given when it holds none.
func redactNonURL(s string) string {
	const scheme = "x://"
	if r, ok := strings.CutPrefix(conda.Redact(scheme+s), scheme); ok {
		if u, err := url.PathUnescape(r); err == nil && u == s {
			return s
		}
		return r
	}
	if strings.ContainsAny(s, "@?#") {
		return "REDACTED"
	}
	return s
}

// notForCommand says why a flag of verify that cmd lacks is not one of
// its flags, for verify-env; "" for any other flag.
func notForCommand(cmd *cobra.Command, name string) string {
	if cmd.Name() != "verify-env" {
		return ""
	}
	switch name {
	case "artifact":
		return "--artifact is verify's: verify-env checks each package against its lock-file hash; to verify downloaded bytes, pass --download-unhashed (and --keep-downloads DIR to keep them), or verify package files with condasigs verify --artifact"
	case "repodata":
		return "--repodata is verify's: verify-env reads each package's record from the channel and subdir of its lock-file URL; for records of a local copy, point the lock file at it and give the original channel with --channel"
	case "bundle":
		return "--bundle is verify's: verify-env retrieves each locked package's sidecar from its channel; verify local files with condasigs verify --bundle"
	}
	return ""
}
