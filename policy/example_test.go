package policy_test

import (
	"fmt"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
)

// A policy that trusts conda-forge's GitHub Actions workflows, applied to
// the evidence of a bundle signed by a look-alike organisation.
func ExampleEngine_Decide() {
	engine, err := policy.Compile(policy.Policy{
		Require: policy.ModeError,
		Identities: []policy.Identity{{
			SAN:    "https://github.com/conda-forge/*",
			Issuer: "https://token.actions.githubusercontent.com",
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := engine.Decide(policy.Input{Bundles: []attest.Evidence{{
		Verified: true, SignatureVerified: true,
		SAN:    "https://github.com/conda-forge-evil/numpy/.github/workflows/build.yml@refs/heads/main",
		Issuer: "https://token.actions.githubusercontent.com",
	}}})
	fmt.Println(d.Outcome, d.Status)
	for _, r := range d.Reasons {
		fmt.Println(r.Rule, r.Code)
	}
	// Output:
	// fail verification-failure
	// require no-trusted-bundle
	// identity untrusted-identity
}

// Compile explains what is wrong with a policy and how to fix it.
func ExampleCompile() {
	_, err := policy.Compile(policy.Policy{Identities: []policy.Identity{{SAN: "https://github.com/my-org/*"}}})
	fmt.Println(err)
	// Output:
	// policy: trusted identity "https://github.com/my-org/*" has no issuer: a SAN alone is weak, pin its OIDC issuer, e.g. github (https://token.actions.githubusercontent.com) for GitHub Actions, or write issuer: any to accept every issuer
}
