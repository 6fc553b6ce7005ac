package verdictcache

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/condasigs/condasigs/attest"
)

// FuzzVerdictEntry feeds arbitrary bytes to the verdict cache's readers:
// single entries and batch entries. They never panic, and what they accept
// is sound: evidence that names the key's package, parts that start with
// their key's prefix and lie within the entry.
func FuzzVerdictEntry(f *testing.F) {
	k := Key{BuildDigest: "c", TrustRoot: "sha256:00", Policy: "p", Channel: "https://conda.example.com/c",
		Filename: "a-1-0.conda", PackageSHA256: "aa", SidecarSHA256: "bb"}
	prefix := k.prefix()
	good, _ := json.Marshal([]attest.Evidence{{Index: 0, Verified: true, SignatureVerified: true, SAN: "s", Issuer: "i",
		SubjectName: k.Filename, SubjectSHA256: k.PackageSHA256}})
	entry := append(append([]byte{}, prefix...), good...)
	f.Add(entry)
	f.Add(append([]byte(batchHeader+"5\n"), entry...))
	f.Add([]byte(batchHeader + "3\nabc"))
	f.Add([]byte("-1\n"))
	f.Add([]byte("99999999999999999999\nx"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if evs, ok := decodeEntry(b, prefix, k); ok {
			if !bytes.HasPrefix(b, prefix) || !soundEvidence(evs, k) {
				t.Fatalf("accepted an unsound entry %q", b)
			}
			for _, ev := range evs {
				if ev.Verified && (ev.SubjectName != k.Filename || ev.SubjectSHA256 != k.PackageSHA256) {
					t.Fatalf("verified evidence for another package: %+v", ev)
				}
			}
		}
		rest := b
		for range 8 {
			part, next, ok := cutPart(rest)
			if !ok {
				break
			}
			if len(part)+len(next) >= len(rest) || !bytes.Contains(rest, part) {
				t.Fatalf("cutPart(%q) = %q, %q", rest, part, next)
			}
			rest = next
		}
	})
}
