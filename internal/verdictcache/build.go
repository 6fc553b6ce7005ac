package verdictcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

// modulePath is the module whose code reaches verdicts.
const modulePath = "github.com/condasigs/condasigs"

// BuildDigest identifies the code that reaches a verdict, for Key: an
// upgrade of condasigs (version), of any dependency (sigstore-go, its
// Merkle, SCT and timestamp libraries) or of Go itself never reuses a
// verdict the old code reached. It hashes version, the Go version, the
// build settings and every module of the build with its version and
// checksum. When those do not pin condasigs's own code (a build from a
// modified or unversioned source tree, a test binary, a replace
// directive), it hashes the running executable instead. It is empty, and
// the verdict cache unused (see Open), when nothing identifies the code.
// It reads the executable each time: callers compute it once per process,
// which it describes.
func BuildDigest(version string) string {
	h := sha256.New()
	fmt.Fprintf(h, "condasigs %s\n%s\n", version, runtime.Version())
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return executableDigest(h)
	}
	known := false
	for _, m := range append([]*debug.Module{&info.Main}, info.Deps...) {
		used := m
		if m.Replace != nil {
			used = m.Replace
		}
		fmt.Fprintf(h, "%s => %s %s %s\n", m.Path, used.Path, used.Version, used.Sum)
		if m.Path == modulePath && m.Replace == nil && m.Version != "" && m.Version != "(devel)" && m.Sum != "" {
			known = true // a released or pseudo-versioned module, checksummed
		}
	}
	revision, modified := "", true
	for _, s := range info.Settings {
		fmt.Fprintf(h, "%s=%s\n", s.Key, s.Value)
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if info.Main.Path == modulePath && revision != "" && !modified {
		known = true // built from a clean checkout of this repository
	}
	if !known {
		return executableDigest(h)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// executableDigest adds the running executable's bytes to h.
func executableDigest(h hash.Hash) string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
