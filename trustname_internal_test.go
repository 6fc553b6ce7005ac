package condasigs

import (
	"testing"

	"github.com/condasigs/condasigs/trustroot"
)

func TestTrustRootName(t *testing.T) {
	for _, tc := range []struct {
		info trustroot.Info
		want string
	}{
		{trustroot.Info{Kind: "file", Source: "/x/trusted_root.json"}, "file /x/trusted_root.json"},
		{trustroot.Info{Kind: "tuf", Source: "https://tuf-repo-cdn.sigstore.dev"}, "TUF repository https://tuf-repo-cdn.sigstore.dev"},
		{trustroot.Info{Kind: "set", Source: "tuf https://t, file /a.json"}, "tuf https://t, file /a.json"},
		{trustroot.Info{Kind: "static", Source: "virtual"}, "virtual"},
		{trustroot.Info{Kind: "json"}, ""},
	} {
		if got := trustRootName(tc.info); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.info, got, tc.want)
		}
	}
}
