package policy_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/policy"
)

// Fuzz targets of the policy package (FuzzParseConfig is in
// configfile_test.go). Run them with scripts/fuzz.sh; their seed corpora
// (f.Add and testdata/fuzz) run with the ordinary tests.

// globMatch is the reference for SAN patterns: byte by byte, anchored at
// both ends, case-sensitive, '*' matching any run of bytes ('/' included)
// and every other byte only itself. match[i][j] says whether p[i:] matches
// s[j:].
func globMatch(p, s string) bool {
	next := make([]bool, len(s)+1) // row i+1
	cur := make([]bool, len(s)+1)  // row i
	next[len(s)] = true            // the empty pattern matches only the empty string
	for i := len(p) - 1; i >= 0; i-- {
		for j := len(s); j >= 0; j-- {
			switch {
			case p[i] == '*':
				cur[j] = next[j] || (j < len(s) && cur[j+1])
			default:
				cur[j] = j < len(s) && s[j] == p[i] && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

func TestGlobMatchReference(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "a/b", true},
		{"a", "a", true}, {"a", "A", false}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "ac", true}, {"a*c", "abd", false}, {"**", "x", true}, {"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false}, {"https://github.com/conda-forge/*", "https://github.com/conda-forge-evil/x", false},
		{".", "a", false}, {"a.b", "a.b", true}, {"a?b", "axb", false},
	} {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

// FuzzMatchSAN: MatchSAN agrees with globMatch on every pattern and SAN.
func FuzzMatchSAN(f *testing.F) {
	for _, s := range [][2]string{
		{"https://github.com/conda-forge/*", "https://github.com/conda-forge/feedstock/.github/workflows/x.yml@refs/heads/main"},
		{"https://github.com/conda-forge/*", "https://github.com/conda-forge-evil/x"},
		{"https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/*", "https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/v1"},
		{"*@example.org", "jku@example.org"}, {"*", ""}, {"", ""}, {"a*b*c", "abc\nc"},
		{`\Q.*+?()[]{}|^$\E`, `\Q.*+?()[]{}|^$\E`}, {"a.c", "abc"}, {"(?i)a", "A"},
		{"A", "a"}, {"é*", "éx"}, {"*\x00*", "a\x00b"}, {"**a", "a"},
		{"\xff", "\xff"}, {"\ufffd", "\xff"}, {"a*\ufffd", "ab\xff"}, {"*\xc3", "\xc3\xa9"}, {"ab*ba", "aba"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, san string) {
		if got, want := policy.MatchSAN(pattern, san), globMatch(pattern, san); got != want {
			t.Fatalf("MatchSAN(%q, %q) = %v, want %v", pattern, san, got, want)
		}
	})
}

// fullMatch is the reference for identity_regex: whether re, compiled on
// its own, matches the whole of s. Leftmost-longest finds a match at 0 of
// length len(s) whenever one exists.
func fullMatch(re *regexp.Regexp, s string) bool {
	re.Longest()
	loc := re.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// Bits of FuzzIdentityCheck's flags.
const (
	fuzzWithClaims    = 1 << iota // the evidence has certificate claims
	fuzzClaimsFromIDs             // the claims are what the identity asks for, '*' removed
	fuzzSANFromID                 // the SAN is the identity's pattern, '*' removed
	fuzzOtherIssuer               // the evidence's issuer is evIssuer, not the identity's
)

// FuzzIdentityCheck: Identity.Check and Compile never panic and agree; an
// identity is refused exactly when it breaks a documented rule; and a
// compiled identity trusts a signer exactly when the reference matchers
// say so: globMatch for the patterns, the expression alone, matching the
// whole SAN, for identity_regex (so an expression can never break out of
// its anchoring), equality for the issuer and the exact claims.
func FuzzIdentityCheck(f *testing.F) {
	gh := "https://token.actions.githubusercontent.com"
	wf := "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1"
	add := func(san, re, issuer, repo, ref, signer, runner, repoID, ownerID, evSAN, evIssuer string, flags uint8) {
		f.Add(san, re, issuer, repo, ref, signer, runner, repoID, ownerID, evSAN, evIssuer, flags)
	}
	add("https://github.com/o/*", "", "github", "", "", "", "", "", "", wf, "", 0)
	add("https://github.com/o/*", "", gh, "https://github.com/o/*", "refs/tags/*", "https://github.com/o/*", "github-hosted", "123", "456", wf, "", fuzzWithClaims|fuzzClaimsFromIDs)
	add("https://github.com/o/*", "", gh, "https://github.com/o/*", "", "", "", "", "", wf, "", fuzzWithClaims)
	add("https://github.com/o/*", "", gh, "", "", "", "self-hosted", "", "", wf, "", 0)
	add("", `https://github\.com/o/[^/]+/\.github/workflows/release\.yml@refs/tags/v\d+`, "github", "", "", "", "", "", "", wf, "", 0)
	add("", `a|ab`, "any", "", "", "", "", "", "", "ab", "https://evil.example", fuzzOtherIssuer)
	add("", `x)|(.*`, "github", "", "", "", "", "", "", "anything", "", 0)
	add("", `x\Q`, "github", "", "", "", "", "", "", `x)\z`, "", 0)
	add("", `(?m)^a$`, "github", "", "", "", "", "", "", "b\na", "", 0)
	add("", `(?i)A.*`, "github-oauth", "", "", "", "", "", "", "abc", "", 0)
	add("", `\bx`, "https://gitlab.com", "", "", "", "", "", "", "x", "", 0)
	add("a", `a`, "github", "", "", "", "", "", "", "a", "", 0)
	add("", "", "github", "", "", "", "", "", "", "", "", 0)
	add("a*", "", "", "", "", "", "", "", "", "ab", "", 0)
	add("a*", "", "not-a-url", "", "", "", "", "", "", "ab", "", 0)
	add("\xff*", "", "github", "\xfe", "\ufffd", "*\xc3", "", "", "", "\xff", "", fuzzWithClaims|fuzzClaimsFromIDs|fuzzSANFromID)
	add("", "\xff", "github", "", "", "", "", "", "", "\xff", "", 0)
	add("jku@goto.fi", "", "github-oauth", "", "", "", "", "", "", "jku@goto.fi", "https://token.actions.githubusercontent.com", fuzzOtherIssuer)
	f.Fuzz(func(t *testing.T, san, sanRegex, issuer, repo, ref, signer, runner, repoID, ownerID, evSAN, evIssuer string, flags uint8) {
		id := policy.Identity{SAN: san, SANRegex: sanRegex, Issuer: issuer, SourceRepository: repo,
			SourceRef: ref, BuildSigner: signer, RunnerEnvironment: runner, RepositoryID: repoID, OwnerID: ownerID}
		checkErr := id.Check()
		e, err := policy.Compile(policy.Policy{Identities: []policy.Identity{id}})
		if (checkErr == nil) != (err == nil) {
			t.Fatalf("Check() = %v but Compile: %v", checkErr, err)
		}

		// The documented rules.
		var re *regexp.Regexp
		valid := (san == "") != (sanRegex == "")
		if sanRegex != "" {
			var rerr error
			if re, rerr = regexp.Compile(sanRegex); rerr != nil {
				valid = false
			}
		}
		wantIssuer := issuer
		if u, ok := policy.IssuerShorthands[issuer]; ok {
			wantIssuer = u
		}
		if issuer == "" || (issuer != "any" && !strings.Contains(wantIssuer, "://")) {
			valid = false
		}
		if err != nil {
			if valid && sanRegex != "" {
				// Still refused: the anchored form does not compile (a
				// trailing \Q quotes the group's end).
				if _, werr := regexp.Compile(`\A(?:` + sanRegex + `)\z`); werr != nil {
					return
				}
			}
			if valid {
				t.Fatalf("a valid identity %+v refused: %v", id, err)
			}
			return
		}
		if !valid {
			t.Fatalf("an invalid identity %+v compiled", id)
		}
		eff := e.Effective().Identities[0]
		if eff.Issuer != wantIssuer {
			t.Fatalf("issuer %q resolved to %q, want %q", issuer, eff.Issuer, wantIssuer)
		}

		// The signer.
		ev := attest.Evidence{Verified: true, SignatureVerified: true, SAN: evSAN, Issuer: wantIssuer}
		if flags&fuzzSANFromID != 0 && san != "" {
			ev.SAN = strings.ReplaceAll(san, "*", "")
		}
		if wantIssuer == "any" || flags&fuzzOtherIssuer != 0 {
			ev.Issuer = evIssuer
		}
		if flags&fuzzWithClaims != 0 {
			ev.Claims = &certificate.Extensions{SourceRepositoryURI: evSAN, SourceRepositoryRef: evSAN, BuildSignerURI: evSAN,
				RunnerEnvironment: evIssuer, SourceRepositoryIdentifier: evIssuer, SourceRepositoryOwnerIdentifier: evIssuer}
			if flags&fuzzClaimsFromIDs != 0 {
				*ev.Claims = certificate.Extensions{SourceRepositoryURI: strings.ReplaceAll(repo, "*", ""),
					SourceRepositoryRef: strings.ReplaceAll(ref, "*", ""), BuildSignerURI: strings.ReplaceAll(signer, "*", ""),
					RunnerEnvironment: runner, SourceRepositoryIdentifier: repoID, SourceRepositoryOwnerIdentifier: ownerID}
			}
		}

		sanOK := false
		if re != nil {
			sanOK = fullMatch(re, ev.SAN)
		} else {
			sanOK = globMatch(san, ev.SAN)
		}
		want := (wantIssuer == "any" || ev.Issuer == wantIssuer) && sanOK
		if repo != "" || ref != "" || signer != "" || runner != "" || repoID != "" || ownerID != "" {
			c := ev.Claims
			want = want && c != nil &&
				(repo == "" || globMatch(repo, c.SourceRepositoryURI)) &&
				(ref == "" || globMatch(ref, c.SourceRepositoryRef)) &&
				(signer == "" || globMatch(signer, c.BuildSignerURI)) &&
				(runner == "" || runner == c.RunnerEnvironment) &&
				(repoID == "" || repoID == c.SourceRepositoryIdentifier) &&
				(ownerID == "" || ownerID == c.SourceRepositoryOwnerIdentifier)
		}
		got, ok := e.Trusted(ev)
		if ok != want {
			t.Fatalf("identity %+v trusts signer SAN %q issuer %q claims %+v: %v, want %v", id, ev.SAN, ev.Issuer, ev.Claims, ok, want)
		}
		if ok && got != eff {
			t.Fatalf("Trusted returned %+v, want the effective identity %+v", got, eff)
		}
	})
}
