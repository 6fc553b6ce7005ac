package attest_test

import (
	"context"
	"fmt"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
)

// Verify the bundles of a sidecar against a trusted root and inspect the
// evidence of each.
func ExampleVerifier_VerifySidecar() {
	v, err := attest.NewVerifier(fixtures.TrustedRoot(fixtures.PublicGoodRootFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	evidence, err := v.VerifySidecar(context.Background(), fixtures.Sidecar(fixtures.BundleFile), attest.Subject{
		Filename: "signed-package-2.1.0-hb0f4dca_0.conda",
		SHA256:   "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
		Channel:  "https://prefix.dev/sigstore-example",
	})
	if err != nil {
		fmt.Println(err) // a malformed sidecar
		return
	}
	for _, ev := range evidence {
		fmt.Println(ev.Verified, ev.ChannelMatch, ev.Issuer)
	}

	// The same bundle presented for another file.
	ev := v.VerifyBundle(0, fixtures.Read(fixtures.BundleFile), attest.Subject{
		Filename: "other-1.0-0.conda",
		SHA256:   "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
	})
	fmt.Println(ev.Verified, ev.Code)
	// Output:
	// true match https://token.actions.githubusercontent.com
	// false subject-name
}
