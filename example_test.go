package condasigs_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Verify a real package from a local copy of its channel, offline, against
// the pinned Sigstore public-good trusted root.
func Example() {
	ctx := context.Background()
	trust, err := trustroot.FromFile("examples/quickstart/trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	fetcher := fetch.New(fetch.Options{AllowFile: true}) // local channels are read through file:// URLs
	v, err := condasigs.New(condasigs.Options{
		Trust: trust,
		Policy: policy.Policy{Identities: []policy.Identity{{
			SAN:    "https://github.com/prefix-dev/sigstore-example/*",
			Issuer: "https://token.actions.githubusercontent.com",
		}}},
		Fetcher: fetcher,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	dir, _ := filepath.Abs("examples/quickstart/channel/linux-64")
	subdir := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
	repodata, err := os.Open(filepath.Join(dir, "repodata.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer repodata.Close()
	record, err := fetch.FindRecord(repodata, "signed-package-2.1.0-hb0f4dca_0.conda")
	if err != nil {
		fmt.Println(err)
		return
	}

	report, err := v.Verify(ctx, condasigs.Package{
		URL:     subdir + "/" + record.Filename,
		Channel: "https://prefix.dev/sigstore-example", // the channel this local copy was taken from
		Record:  record,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Outcome, report.Status)
	fmt.Println(report.Signer.SAN)
	// Output:
	// pass verified
	// https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main
}
