package trustdoc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClassify(t *testing.T) {
	real := filepath.Join("..", "..", "examples", "quickstart", "trusted_root.json")
	b, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := Classify(b); k != TrustedRoot {
		t.Errorf("%s: got %v, want TrustedRoot", real, k)
	}
	for _, tc := range []struct {
		doc  string
		want Kind
		role string
	}{
		{`{"signed":{"_type":"root","version":1},"signatures":[{"keyid":"k","sig":"s"}]}`, TUFRoot, "root"},
		{`{"signatures":[{"keyid":"k"}],"signed":{"_type":"Root"}}`, TUFRoot, "root"},
		{`{"signed":{"_type":"timestamp"},"signatures":[]}`, TUFOther, "timestamp"},
		{`{"signed":{"_type":"root"}}`, Unknown, ""},
		{`{"signatures":[{}]}`, Unknown, ""},
		{`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`, TrustedRoot, ""},
		{`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`, Unknown, ""},
		{`[1,2]`, Unknown, ""},
		{`not json`, Unknown, ""},
		{``, Unknown, ""},
	} {
		k, role := Classify([]byte(tc.doc))
		if k != tc.want || role != tc.role {
			t.Errorf("%s: got %v %q, want %v %q", tc.doc, k, role, tc.want, tc.role)
		}
	}
}
