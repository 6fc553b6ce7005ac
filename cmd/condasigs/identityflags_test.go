package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/policy"
)

// policyOf parses args with verify's flags and builds the policy.
func policyOf(t *testing.T, args ...string) (policy.Policy, error) {
	t.Helper()
	var f verifyFlags
	cmd := &cobra.Command{Use: "verify"}
	addVerifyFlags(cmd, &f)
	require.NoError(t, cmd.ParseFlags(args))
	p, _, err := buildPolicy(cmd, f, false)
	return p, err
}

// Identities pair with issuers by position across --identity,
// --identity-regex and every alias, and the claim flags apply to each.
func TestIdentityFlagsPolicy(t *testing.T) {
	p, err := policyOf(t,
		"--identity-regex", "https://github\\.com/a/.*", "--cert-identity", "https://gitlab.com/b/*",
		"--certificate-oidc-issuer", "github", "--issuer", "gitlab", "--certificate-identity-regexp", "c.*", "--cert-oidc-issuer", "https://issuer.example",
		"--source-repository", "https://github.com/a/*", "--source-ref", "refs/tags/*", "--repository-id", "1", "--owner-id", "2",
		"--build-signer", "https://github.com/a/*", "--deny-self-hosted-runners")
	require.NoError(t, err)
	claims := policy.Identity{SourceRepository: "https://github.com/a/*", SourceRef: "refs/tags/*", RepositoryID: "1", OwnerID: "2",
		BuildSigner: "https://github.com/a/*", RunnerEnvironment: "github-hosted"}
	want := []policy.Identity{claims, claims, claims}
	want[0].SANRegex, want[0].Issuer = "https://github\\.com/a/.*", "github"
	want[1].SAN, want[1].Issuer = "https://gitlab.com/b/*", "gitlab"
	want[2].SANRegex, want[2].Issuer = "c.*", "https://issuer.example"
	assert.Equal(t, want, p.Identities)

	p, err = policyOf(t, "--identity", "x", "--issuer", "github", "--runner-environment", "self-hosted")
	require.NoError(t, err)
	assert.Equal(t, []policy.Identity{{SAN: "x", Issuer: "github", RunnerEnvironment: "self-hosted"}}, p.Identities)
}

// Every misuse of the identity flags is a usage error that says what to
// do, in verify, verify-env and pin alike.
func TestIdentityFlagsMisuse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--identity", "x"}, "got 1 identity and 0 issuers, so --identity \"x\" has no issuer"},
		{[]string{"--identity", "x", "--identity-regex", "y", "--issuer", "github"}, "so --identity-regex \"y\" has no issuer"},
		{[]string{"--identity", "x", "--issuer", "github", "--cert-oidc-issuer", "gitlab"}, "--cert-oidc-issuer \"gitlab\" pairs with no identity"},
		{[]string{"--issuer", "github"}, "at least one --identity (or --identity-regex)"},
		{[]string{"--identity-regex", "(", "--issuer", "github"}, "--identity-regex \"(\" is not an RE2 regular expression"},
		{[]string{"--identity-regex", `a\Q`, "--issuer", "github"}, "is not an RE2 regular expression"},
		{[]string{"--cert-identity", " ", "--issuer", "github"}, "--cert-identity is empty"},
		{[]string{"--identity", "x", "--issuer", "github", "--build-signer", ""}, "--build-signer is empty"},
		{[]string{"--identity", "x", "--issuer", "github", "--runner-environment", "self-hosted", "--deny-self-hosted-runners"}, "--deny-self-hosted-runners requires runner environment github-hosted"},
		{[]string{"--identity", "x", "--issuer", "nope"}, "neither a URL nor a known shorthand"},
		// A repeated claim flag would otherwise keep its last value only,
		// dropping the constraint typed first.
		{[]string{"--identity", "x", "--issuer", "github", "--source-ref", "refs/tags/*", "--source-ref=refs/heads/*"}, `--source-ref is given 2 times ("refs/tags/*", "refs/heads/*"): a signer must match every claim flag`},
		{[]string{"--identity", "x", "--issuer", "github", "--runner-environment", "github-hosted", "--deny-self-hosted-runners", "--runner-environment", "self-hosted"}, "--runner-environment is given 2 times"},
		{[]string{"--identity", "x", "--issuer", "github", "--owner-id", "1", "--owner-id", "1"}, "--owner-id is given 2 times"},
		{[]string{"--config", "c.yaml", "--repository-id", "1"}, "--repository-id cannot be combined with --config: set it in the policy file instead (repository_id,"},
		{[]string{"--config", "c.yaml", "--certificate-identity", "x"}, "--certificate-identity cannot be combined with --config"},
		{[]string{"--config", "c.yaml", "--runner-environment", "github-hosted"}, "(runner_environment,"},
	} {
		env := filepath.Join(t.TempDir(), "env.txt")
		require.NoError(t, os.WriteFile(env, []byte("@EXPLICIT\n"+fileURL(t)+"#54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f\n"), 0o644))
		for _, sub := range []string{"verify", "pin", "verify-env"} {
			args := append([]string{sub, "--trusted-root", trustedRoot, "--pins", "p.json"}, tc.args...)
			if sub == "verify-env" {
				args = append(args, "--no-cache", env)
			} else {
				args = append(args, fileURL(t))
			}
			code, out, errOut := runCLI(t, args...)
			assert.Equal(t, exitProblem, code, "%v: %s", args, errOut)
			assert.Empty(t, out, "%v", args)
			assert.Contains(t, errOut, "usage: ", "%v", args)
			assert.Contains(t, errOut, tc.want, "%v", args)
		}
	}
}
