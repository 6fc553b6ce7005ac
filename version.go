package condasigs

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime/debug"
	"strings"
)

// Version is this library's version. See CHANGELOG.md.
const Version = "0.1.0-dev"

// buildDigest identifies the code a verdict comes from: a digest of
// Version and of the module versions of condasigs and sigstore-go in this
// build when the binary records them. Verdict cache keys include it, so
// that an upgrade of either never reuses a verdict the old code reached.
func buildDigest() string {
	sum := sha256.Sum256([]byte(buildVersions()))
	return hex.EncodeToString(sum[:16])
}

func buildVersions() string {
	parts := []string{"condasigs " + Version}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return parts[0]
	}
	mods := append([]*debug.Module{&info.Main}, info.Deps...)
	for _, m := range mods {
		if m == nil {
			continue
		}
		if r := m.Replace; r != nil {
			m = r
		}
		switch {
		case strings.HasPrefix(m.Path, "github.com/condasigs/condasigs"), strings.HasPrefix(m.Path, "github.com/sigstore/sigstore-go"):
			parts = append(parts, m.Path+" "+m.Version+" "+m.Sum)
		}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			parts = append(parts, s.Key+"="+s.Value)
		}
	}
	return strings.Join(parts, "\n")
}
