package trustroot

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// digestOf is the Digest of one trusted_root.json document: the SHA-256 of
// its bytes.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// digestOfSet is the Digest of several members, in order; empty when one
// of them has none, since the set's material is then not fully known.
func digestOfSet(members []string) string {
	for _, m := range members {
		if m == "" {
			return ""
		}
	}
	return digestOf([]byte("set\x00" + strings.Join(members, "\x00")))
}
