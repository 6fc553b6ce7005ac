package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/condasigs/condasigs/attest"
)

// Identity is a trusted signer. A bundle's signer matches when every field
// that is set matches the verified certificate.
//
// Patterns (SAN, SourceRepository, SourceRef, BuildSigner) are literal and
// case-sensitive, anchored at both ends; '*' matches any run of characters,
// '/' included. So "https://github.com/conda-forge/*" matches every
// workflow of the conda-forge organisation and not
// "https://github.com/conda-forge-evil/x".
type Identity struct {
	// SAN is a pattern for the certificate's Subject Alternative Name: for
	// GitHub Actions the workflow, e.g.
	// "https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/*".
	SAN string `json:"identity,omitempty"`
	// SANRegex is an RE2 regular expression for the SAN, anchored at both
	// ends, instead of SAN.
	SANRegex string `json:"identity_regex,omitempty"`
	// Issuer is the OIDC issuer, exactly: a URL, a shorthand for the
	// issuers Fulcio certifies ("github", "github-oauth", "gitlab",
	// "google", "microsoft", "buildkite", "codefresh"), or "any" to
	// accept any issuer, which must be said explicitly.
	Issuer string `json:"issuer"`
	// SourceRepository is a pattern for the source repository URI claim.
	SourceRepository string `json:"source_repository,omitempty"`
	// RepositoryID and OwnerID are the immutable identifiers of the source
	// repository and its owner, which survive renames and transfers.
	RepositoryID string `json:"repository_id,omitempty"`
	OwnerID      string `json:"owner_id,omitempty"`
	// SourceRef is a pattern for the source ref, e.g. "refs/tags/*".
	SourceRef string `json:"source_ref,omitempty"`
	// BuildSigner is a pattern for the build signer URI (the workflow that
	// signed, which may differ from the SAN's for reusable workflows).
	BuildSigner string `json:"build_signer,omitempty"`
	// RunnerEnvironment is the runner environment, exactly, e.g.
	// "github-hosted" to refuse self-hosted runners.
	RunnerEnvironment string `json:"runner_environment,omitempty"`
}

// issuerAny, as Identity.Issuer, accepts any OIDC issuer. It must be
// written explicitly.
const issuerAny = "any"

// issuerShorthands maps the names accepted in Identity.Issuer to the
// issuer URLs Fulcio certifies.
var issuerShorthands = map[string]string{
	"github":       "https://token.actions.githubusercontent.com",
	"github-oauth": "https://github.com/login/oauth",
	"gitlab":       "https://gitlab.com",
	"google":       "https://accounts.google.com",
	"microsoft":    "https://login.microsoftonline.com",
	"buildkite":    "https://agent.buildkite.com",
	"codefresh":    "https://oauth2.codefresh.io",
}

// String formats the identity for messages.
func (id Identity) String() string { return fmt.Sprintf("%s (issuer %s)", id.pattern(), id.Issuer) }

func (id Identity) pattern() string {
	if id.SANRegex != "" {
		return "/" + id.SANRegex + "/"
	}
	return id.SAN
}

// check reports what is wrong with id, in words that say how to fix it.
func (id Identity) check() error {
	_, err := compileIdentity(id)
	return err
}

type identityMatcher struct {
	id                     Identity // issuer resolved
	san, repo, ref, signer stringMatcher
}

func compileIdentity(id Identity) (identityMatcher, error) {
	m := identityMatcher{}
	switch {
	case id.SAN == "" && id.SANRegex == "":
		return m, fmt.Errorf("trusted identity without identity (the SAN pattern): give the signer's certificate identity, e.g. https://github.com/OWNER/REPO/.github/workflows/WORKFLOW.yml@refs/heads/main")
	case id.SAN != "" && id.SANRegex != "":
		return m, fmt.Errorf("trusted identity %q has both identity and identity_regex: keep one", id.SAN)
	case id.SANRegex != "":
		// Compile it alone first: only an expression that parses on its
		// own cannot break out of the anchoring group ("x)|(.*"). The
		// wrapped form can still fail (a trailing \Q quotes the group's
		// end), so it is checked too, never MustCompile'd.
		if _, err := regexp.Compile(id.SANRegex); err != nil {
			return m, fmt.Errorf("identity_regex %q: %v", id.SANRegex, err)
		}
		re, err := regexp.Compile(`\A(?:` + id.SANRegex + `)\z`)
		if err != nil {
			return m, fmt.Errorf("identity_regex %q: %v", id.SANRegex, err)
		}
		m.san = re
	default:
		m.san = glob(strings.Split(id.SAN, "*"))
	}
	switch {
	case id.Issuer == "":
		return m, fmt.Errorf("trusted identity %q has no issuer: a SAN alone is weak, pin its OIDC issuer, e.g. github (https://token.actions.githubusercontent.com) for GitHub Actions, or write issuer: any to accept every issuer", id.pattern())
	case id.Issuer == issuerAny:
	case issuerShorthands[id.Issuer] != "":
		id.Issuer = issuerShorthands[id.Issuer]
	case !strings.Contains(id.Issuer, "://"):
		return m, fmt.Errorf("trusted identity %q: issuer %q is neither a URL nor a known shorthand (%s)", id.pattern(), id.Issuer, shorthandList())
	}
	m.repo = optionalGlob(id.SourceRepository)
	m.ref = optionalGlob(id.SourceRef)
	m.signer = optionalGlob(id.BuildSigner)
	m.id = id
	return m, nil
}

func shorthandList() string {
	names := make([]string, 0, len(issuerShorthands))
	for k := range issuerShorthands {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func optionalGlob(p string) stringMatcher {
	if p == "" {
		return nil
	}
	return glob(strings.Split(p, "*"))
}

// stringMatcher is a compiled SAN or claim pattern: a glob or a regexp.
type stringMatcher interface{ MatchString(string) bool }

// glob is a pattern split at its '*'s: literal parts, matched byte for
// byte (any bytes, valid UTF-8 or not), each '*' any run between them.
type glob []string

// MatchString reports whether s matches the whole pattern.
func (g glob) MatchString(s string) bool {
	if len(g) == 1 {
		return s == g[0]
	}
	first, last := g[0], g[len(g)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	// The leftmost match of each middle part leaves the most room for the
	// parts after it, so a greedy scan decides.
	for _, part := range g[1 : len(g)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}

// match reports whether the verified signer of ev matches.
func (m identityMatcher) match(ev attest.Evidence) bool {
	if m.id.Issuer != issuerAny && ev.Issuer != m.id.Issuer {
		return false
	}
	if !m.san.MatchString(ev.SAN) {
		return false
	}
	if m.repo == nil && m.ref == nil && m.signer == nil && m.id.RepositoryID == "" && m.id.OwnerID == "" && m.id.RunnerEnvironment == "" {
		return true
	}
	if ev.Claims == nil {
		return false
	}
	c := ev.Claims
	return matchOptional(m.repo, c.SourceRepositoryURI) &&
		matchOptional(m.ref, c.SourceRepositoryRef) &&
		matchOptional(m.signer, c.BuildSignerURI) &&
		equalOptional(m.id.RepositoryID, c.SourceRepositoryIdentifier) &&
		equalOptional(m.id.OwnerID, c.SourceRepositoryOwnerIdentifier) &&
		equalOptional(m.id.RunnerEnvironment, c.RunnerEnvironment)
}

func matchOptional(m stringMatcher, v string) bool { return m == nil || m.MatchString(v) }

func equalOptional(want, v string) bool { return want == "" || want == v }

// matchSAN reports whether san matches the SAN pattern, with the semantics
// described on [Identity].
func matchSAN(pattern, san string) bool { return glob(strings.Split(pattern, "*")).MatchString(san) }
