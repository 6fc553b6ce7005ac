package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Identity is a trusted signer: a pattern for the certificate's Subject
// Alternative Name and the OIDC issuer that must have vouched for it.
//
// The SAN pattern is literal and case-sensitive, anchored at both ends; '*'
// matches any run of characters, '/' included. So
// "https://github.com/conda-forge/*" matches every workflow of the
// conda-forge organisation and not "https://github.com/conda-forge-evil/x".
type Identity struct {
	SAN    string `json:"san"`
	Issuer string `json:"issuer"`
}

// String formats the identity as "SAN (issuer ISSUER)".
func (id Identity) String() string { return fmt.Sprintf("%s (issuer %s)", id.SAN, id.Issuer) }

type identityMatcher struct {
	id  Identity
	san *regexp.Regexp
}

func compileIdentity(id Identity) (identityMatcher, error) {
	if id.SAN == "" {
		return identityMatcher{}, fmt.Errorf("trusted identity with an empty SAN pattern: give the signer's certificate identity, e.g. https://github.com/OWNER/REPO/.github/workflows/WORKFLOW.yml@refs/heads/main")
	}
	if id.Issuer == "" {
		return identityMatcher{}, fmt.Errorf("trusted identity %q has no issuer: a SAN alone is weak, pin its OIDC issuer, e.g. https://token.actions.githubusercontent.com for GitHub Actions", id.SAN)
	}
	return identityMatcher{id: id, san: globRegexp(id.SAN)}, nil
}

// globRegexp compiles a SAN pattern: literal text, '*' for any run.
func globRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`\A(?s:` + strings.Join(parts, ".*") + `)\z`)
}

func (m identityMatcher) match(san, issuer string) bool {
	return issuer == m.id.Issuer && m.san.MatchString(san)
}

// MatchSAN reports whether san matches the SAN pattern, with the semantics
// described on [Identity].
func MatchSAN(pattern, san string) bool { return globRegexp(pattern).MatchString(san) }
