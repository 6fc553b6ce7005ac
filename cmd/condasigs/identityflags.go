package main

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/condasigs/condasigs/policy"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// identityHelp is the part of a verifying command's help that says how the
// identity flags pair and combine.
const identityHelp = `Trusted signers: each --identity (a SAN pattern, '*' matching any run) or
--identity-regex (an RE2 expression that must match the whole SAN: it is
anchored at both ends, unlike gh's and cosign's, so write .* where any text
may come) pairs with the --issuer in the same position, counted over both
identity flags in command-line order: the first identity given pairs with the
first --issuer, the second with the second, and so on. A package passes when
a verified bundle's signer matches one of the pairs.

The claim flags (--source-repository, --source-ref, --repository-id,
--owner-id, --build-signer, --runner-environment, --deny-self-hosted-runners)
constrain every identity given, as gh's do: a signer must match its pair and
every claim flag. --source-repository, --source-ref and --build-signer are
patterns ('*' matches any run); the others are compared exactly. A signed
package's values are its bundles' claims in --format json output.

gh's and cosign's spellings are accepted too: --cert-identity and
--certificate-identity for --identity, --cert-identity-regex and
--certificate-identity-regexp for --identity-regex, --cert-oidc-issuer and
--certificate-oidc-issuer for --issuer.`

// signerArg is one --identity or --identity-regex (or an alias) as given.
type signerArg struct {
	flag  string // the flag's name as typed: identity, cert-identity, ...
	value string
	regex bool
}

// issuerArg is one --issuer (or an alias) as given.
type issuerArg struct {
	flag  string
	value string
}

// identityFlags are the trusted-signer flags: the identities and issuers,
// in command-line order across all their spellings, and the claims every
// identity must also match.
type identityFlags struct {
	signers []signerArg
	issuers []issuerArg

	sourceRepository  string
	sourceRef         string
	repositoryID      string
	ownerID           string
	buildSigner       string
	runnerEnvironment string
	denySelfHosted    bool
}

// signerValue is the flag.Value of --identity, --identity-regex and their
// aliases: each appends to one shared list, so that the order of the
// command line decides the pairing.
type signerValue struct {
	f     *identityFlags
	flag  string
	regex bool
}

func (v *signerValue) Set(s string) error {
	v.f.signers = append(v.f.signers, signerArg{flag: v.flag, value: s, regex: v.regex})
	return nil
}

func (v *signerValue) String() string { return "" }

func (v *signerValue) Type() string {
	if v.regex {
		return "regex"
	}
	return "pattern"
}

// issuerValue is the flag.Value of --issuer and its aliases.
type issuerValue struct {
	f    *identityFlags
	flag string
}

func (v *issuerValue) Set(s string) error {
	v.f.issuers = append(v.f.issuers, issuerArg{flag: v.flag, value: s})
	return nil
}

func (v *issuerValue) String() string { return "" }

func (v *issuerValue) Type() string { return "string" }

// claimValue is the flag.Value of a claim flag. It keeps every value
// given: a claim flag given twice is refused (see claims), not settled by
// its last value, which would drop a constraint the user typed.
type claimValue struct {
	p    *string
	seen []string
}

func (v *claimValue) Set(s string) error {
	v.seen = append(v.seen, s)
	*v.p = s
	return nil
}

func (v *claimValue) String() string { return *v.p }

func (v *claimValue) Type() string { return "string" }

// Hidden spellings of gh (cert-) and cosign (certificate-), each for the
// flag it stands for.
var identityAliases = map[string]string{
	"cert-identity":               "identity",
	"certificate-identity":        "identity",
	"cert-identity-regex":         "identity-regex",
	"certificate-identity-regexp": "identity-regex",
	"cert-oidc-issuer":            "issuer",
	"certificate-oidc-issuer":     "issuer",
}

// claimFlag is a flag for one claim of policy.Identity.
type claimFlag struct {
	name, key string // the flag, and its key in the policy file
	field     func(*identityFlags) *string
	usage     string
}

var claimFlags = []claimFlag{
	{"source-repository", "source_repository", func(f *identityFlags) *string { return &f.sourceRepository },
		"source repository URI the signer built from, a pattern, e.g. https://github.com/OWNER/REPO (claim sourceRepositoryURI; applies to every identity)"},
	{"source-ref", "source_ref", func(f *identityFlags) *string { return &f.sourceRef },
		"git ref the signer built, a pattern, e.g. refs/tags/* (claim sourceRepositoryRef; applies to every identity)"},
	{"repository-id", "repository_id", func(f *identityFlags) *string { return &f.repositoryID },
		"immutable ID of the source repository, exactly, which survives renames and transfers (claim sourceRepositoryIdentifier; applies to every identity)"},
	{"owner-id", "owner_id", func(f *identityFlags) *string { return &f.ownerID },
		"immutable ID of the source repository's owner, exactly (claim sourceRepositoryOwnerIdentifier; applies to every identity)"},
	{"build-signer", "build_signer", func(f *identityFlags) *string { return &f.buildSigner },
		"URI of the workflow that signed (a reusable one's, where used), a pattern (claim buildSignerURI; applies to every identity)"},
	{"runner-environment", "runner_environment", func(f *identityFlags) *string { return &f.runnerEnvironment },
		"runner environment, exactly, e.g. github-hosted or self-hosted (claim runnerEnvironment; applies to every identity)"},
}

// addIdentityFlags adds the trusted-signer flags and their hidden aliases.
func addIdentityFlags(fl *pflag.FlagSet, f *identityFlags) {
	fl.Var(&signerValue{f: f, flag: "identity"}, "identity", "trusted signer: certificate SAN pattern, '*' matches any run (repeatable; each --identity or --identity-regex pairs with the --issuer in the same position)")
	fl.Var(&signerValue{f: f, flag: "identity-regex", regex: true}, "identity-regex", "trusted signer: RE2 regular expression for the whole certificate SAN, anchored at both ends (repeatable; paired with an --issuer as --identity is)")
	fl.Var(&issuerValue{f: f, flag: "issuer"}, "issuer", "OIDC issuer of the --identity or --identity-regex in the same position: a URL, or github, gitlab, google, ... (repeatable)")
	for _, c := range claimFlags {
		fl.Var(&claimValue{p: c.field(f)}, c.name, c.usage)
	}
	fl.BoolVar(&f.denySelfHosted, "deny-self-hosted-runners", false, "refuse signers that ran on self-hosted runners: --runner-environment github-hosted")
	for alias, name := range identityAliases {
		switch name {
		case "issuer":
			fl.Var(&issuerValue{f: f, flag: alias}, alias, "same as --issuer")
		default:
			fl.Var(&signerValue{f: f, flag: alias, regex: name == "identity-regex"}, alias, "same as --"+name)
		}
		_ = fl.MarkHidden(alias)
	}
}

// identityFlagKeys maps each identity and claim flag, aliases included, to
// where its value goes in a policy file.
func identityFlagKeys() map[string]string {
	keys := map[string]string{
		"identity":                 "identity",
		"identity-regex":           "identity_regex",
		"issuer":                   "issuer",
		"deny-self-hosted-runners": "runner_environment: github-hosted",
	}
	for alias, name := range identityAliases {
		keys[alias] = keys[name]
	}
	for _, c := range claimFlags {
		keys[c.name] = c.key
	}
	return keys
}

// checkIdentityFlagsWithConfig rejects identity and claim flags beside
// --config, whose file holds the trusted identities of each channel.
func checkIdentityFlagsWithConfig(cmd *cobra.Command) error {
	var bad string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if _, ok := identityFlagKeys()[fl.Name]; ok && bad == "" {
			bad = fl.Name
		}
	})
	if bad == "" {
		return nil
	}
	return usageError("--%s cannot be combined with --config: set it in the policy file instead (%s, in each entry of trusted_identities), or leave --config out",
		bad, identityFlagKeys()[bad])
}

// identities builds the trusted identities of the flags: each signer
// paired with the issuer in the same position, every claim flag applied to
// each.
func (f *identityFlags) identities(cmd *cobra.Command) ([]policy.Identity, error) {
	const issuerHint = "give each --identity the OIDC issuer of its certificates, a URL or a shorthand: github (GitHub Actions), gitlab, google, ...; each --identity or --identity-regex pairs with the --issuer in the same position"
	if len(f.signers) == 0 {
		return nil, usageError("at least one --identity (or --identity-regex) with its --issuer is required (or a --config file): a package passes only when a trusted signer attested it")
	}
	if len(f.signers) != len(f.issuers) {
		if len(f.signers) > len(f.issuers) {
			s := f.signers[len(f.issuers)]
			return nil, usageError("--identity and --issuer come in pairs: got %s and %s, so --%s %q has no issuer; %s",
				nounCount(len(f.signers), "identity", "identities"), nounCount(len(f.issuers), "issuer", "issuers"), s.flag, s.value, issuerHint)
		}
		is := f.issuers[len(f.signers)]
		return nil, usageError("--identity and --issuer come in pairs: got %s and %s, so --%s %q pairs with no identity; give the --identity or --identity-regex it is for, or drop the extra --issuer",
			nounCount(len(f.signers), "identity", "identities"), nounCount(len(f.issuers), "issuer", "issuers"), is.flag, is.value)
	}
	claims, err := f.claims(cmd)
	if err != nil {
		return nil, err
	}
	out := make([]policy.Identity, 0, len(f.signers))
	for i, s := range f.signers {
		if err := checkSigner(s); err != nil {
			return nil, err
		}
		if iss := f.issuers[i]; strings.TrimSpace(iss.value) == "" {
			return nil, usageError("--%s is empty: %s", iss.flag, issuerHint)
		}
		id := claims
		id.Issuer = f.issuers[i].value
		if s.regex {
			id.SANRegex = s.value
		} else {
			id.SAN = s.value
		}
		out = append(out, id)
	}
	return out, nil
}

// checkSigner rejects an empty identity and a regular expression that is
// not RE2, or that does not stay one once anchored.
func checkSigner(s signerArg) error {
	if strings.TrimSpace(s.value) == "" {
		return usageError("--%s is empty: give the signer's certificate identity (SAN), e.g. https://github.com/OWNER/REPO/.github/workflows/WORKFLOW.yml@refs/heads/main", s.flag)
	}
	if !s.regex {
		return nil
	}
	_, err := regexp.Compile(s.value)
	if err == nil {
		_, err = regexp.Compile(`\A(?:` + s.value + `)\z`)
	}
	if err != nil {
		return usageError("--%s %q is not an RE2 regular expression (%v): fix it, or use --identity with '*' for any run, e.g. --identity 'https://github.com/OWNER/REPO/*'", s.flag, s.value, regexpReason(err))
	}
	return nil
}

// regexpReason is the regexp error without its "error parsing regexp: "
// prefix.
func regexpReason(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// claims returns the claim flags as an Identity without signer or issuer.
func (f *identityFlags) claims(cmd *cobra.Command) (policy.Identity, error) {
	fl := cmd.Flags()
	for _, c := range claimFlags {
		if v, ok := fl.Lookup(c.name).Value.(*claimValue); ok && len(v.seen) > 1 {
			return policy.Identity{}, usageError("--%s is given %d times (%s): a signer must match every claim flag, and a certificate has one value of each claim; give --%s once (a pattern flag takes '*' for any run), or trust signers of several values with a --config policy file, one trusted identity for each",
				c.name, len(v.seen), quoteList(v.seen), c.name)
		}
		if fl.Changed(c.name) && strings.TrimSpace(*c.field(f)) == "" {
			return policy.Identity{}, usageError("--%s is empty: give the value the signer's certificate must have, or leave --%s out", c.name, c.name)
		}
	}
	env := f.runnerEnvironment
	if f.denySelfHosted {
		if env != "" && env != "github-hosted" {
			return policy.Identity{}, usageError("--deny-self-hosted-runners requires runner environment github-hosted, but --runner-environment is %q: give one of them", env)
		}
		env = "github-hosted"
	}
	return policy.Identity{
		SourceRepository:  f.sourceRepository,
		SourceRef:         f.sourceRef,
		RepositoryID:      f.repositoryID,
		OwnerID:           f.ownerID,
		BuildSigner:       f.buildSigner,
		RunnerEnvironment: env,
	}, nil
}

// quoteList is values quoted and joined, the first three of them.
func quoteList(values []string) string {
	var out []string
	for i, v := range values {
		if i == 3 {
			out = append(out, "...")
			break
		}
		out = append(out, strconv.Quote(v))
	}
	return strings.Join(out, ", ")
}

// nounCount is n and the noun, singular or plural.
func nounCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
