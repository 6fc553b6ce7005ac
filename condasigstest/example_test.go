package condasigstest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// A downstream test builds a channel, signs packages, and checks what its
// code does with each. Here t stands for the *testing.T of such a test.
func Example() {
	t, done := exampleT()
	defer done()

	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	ch.Serve(t)
	ch.Add(t, condasigstest.Package{Filename: "demo-1.0-0.conda", Signer: ss})
	ch.Add(t, condasigstest.Package{Filename: "replayed-1.0-0.conda", Signer: ss, ReplayOf: "demo-1.0-0.conda"})
	ch.Add(t, condasigstest.Package{Filename: "tampered-1.0-0.conda", Signer: ss, TamperSidecar: true})
	ch.Add(t, condasigstest.Package{Filename: "unsigned-1.0-0.conda", Unsigned: true})

	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t)) // a trust root as any integration builds one
	if err != nil {
		t.Fatalf("%v", err)
	}
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: policy.Policy{
		Identities: []policy.Identity{{SAN: "https://github.com/example/*", Issuer: condasigstest.DefaultIssuer}}}})
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, name := range []string{"demo-1.0-0.conda", "replayed-1.0-0.conda", "tampered-1.0-0.conda", "unsigned-1.0-0.conda"} {
		report, err := v.Verify(context.Background(), ch.Package(name))
		if err != nil {
			t.Fatalf("%v", err)
		}
		line := fmt.Sprintf("%s %s %s", name, report.Outcome, report.Status)
		if n := len(report.Reasons); n > 0 {
			line += " " + string(report.Reasons[n-1].Code)
		}
		fmt.Println(line)
	}
	fmt.Println("sidecar requests for demo:", ch.Requests("/linux-64/demo-1.0-0.conda.sigs."+ch.Package("demo-1.0-0.conda").Record.AttestationsSHA256))
	// Output:
	// demo-1.0-0.conda pass verified
	// replayed-1.0-0.conda fail verification-failure subject-name
	// tampered-1.0-0.conda fail retrieval-failure hash-mismatch
	// unsigned-1.0-0.conda fail unsigned unsigned
	// sidecar requests for demo: 1
}

// Packages may be added before Serve: Serve signs them again for the URL it
// serves them at.
func ExampleChannel_Serve() {
	t, done := exampleT()
	defer done()

	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "noarch")
	ch.Add(t, condasigstest.Package{Filename: "demo-1.0-0.conda", Signer: ss}) // for ch.URL(), a file:// URL so far
	base := ch.Serve(t)                                                        // signed again, for base

	trust, err := trustroot.FromJSON(ss.TrustedRootJSON(t))
	if err != nil {
		t.Fatalf("%v", err)
	}
	// The identity the kit signs with when a Package names none.
	const defaultIdentity = "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: policy.Policy{
		Identities: []policy.Identity{{SAN: defaultIdentity, Issuer: condasigstest.DefaultIssuer}}}})
	if err != nil {
		t.Fatalf("%v", err)
	}
	pkg := ch.Package("demo-1.0-0.conda")
	report, err := v.Verify(context.Background(), pkg)
	if err != nil {
		t.Fatalf("%v", err)
	}
	fmt.Println(pkg.URL == base+"/noarch/demo-1.0-0.conda", report.Outcome)
	// Output: true pass
}

// The trusted material verifies bundles made by hand, with attest.
func ExampleSigstore_TrustedMaterial() {
	t, done := exampleT()
	defer done()

	ss := condasigstest.NewSigstore(t)
	sum := sha256.Sum256([]byte("the package's bytes"))
	digest := hex.EncodeToString(sum[:])
	statement := condasigstest.Statement("demo-1.0-0.conda", digest, "https://conda.example.com/demo")
	bundle := ss.Bundle(t, "https://github.com/example/demo/.github/workflows/release.yml@refs/tags/v1.0",
		condasigstest.DefaultIssuer, statement)
	sidecar := []byte("[" + string(bundle) + "]") // a CEP 50 sidecar: the JSON array of the bundles

	v, err := attest.NewVerifier(ss.TrustedMaterial())
	if err != nil {
		t.Fatalf("%v", err)
	}
	evs, err := v.VerifySidecar(context.Background(), sidecar,
		attest.Subject{Filename: "demo-1.0-0.conda", SHA256: digest, Channel: "https://conda.example.com/demo"})
	if err != nil {
		t.Fatalf("%v", err)
	}
	fmt.Println(evs[0].Verified, evs[0].SAN)
	// Output: true https://github.com/example/demo/.github/workflows/release.yml@refs/tags/v1.0
}

// exampleT stands in for a test's *testing.T, which an Example has not:
// it implements the methods the kit calls (Helper, Fatalf, TempDir,
// Cleanup) and runs the cleanups when done is called.
func exampleT() (t testing.TB, done func()) {
	e := &exampleTB{}
	return e, func() {
		for i := len(e.cleanups) - 1; i >= 0; i-- {
			e.cleanups[i]()
		}
	}
}

type exampleTB struct {
	testing.TB // nil: only the methods below may be called
	cleanups   []func()
}

func (*exampleTB) Helper() {}

func (*exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (e *exampleTB) Cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

func (e *exampleTB) TempDir() string {
	dir, err := os.MkdirTemp("", "condasigstest-example-")
	if err != nil {
		panic(err)
	}
	e.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
