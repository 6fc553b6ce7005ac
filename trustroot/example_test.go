package trustroot_test

import (
	"context"
	"fmt"

	"github.com/condasigs/condasigs/trustroot"
)

// Load a pinned trusted_root.json for offline verification.
func ExampleFromFile() {
	trust, err := trustroot.FromFile("../examples/quickstart/trusted_root.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, _ := trust.Snapshot(context.Background())
	fmt.Println(snap.Info.Kind, len(snap.Material.FulcioCertificateAuthorities()) > 0)
	// Output:
	// file true
}
