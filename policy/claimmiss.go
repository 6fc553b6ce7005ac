package policy

import (
	"fmt"

	"github.com/condasigs/condasigs/attest"
)

// claimMiss says, for a verified signer that no trusted identity accepts,
// which claim kept the first identity whose SAN and issuer it matches from
// accepting it, e.g. "it matches https://github.com/o/r/* (issuer ...)
// but its source_ref is refs/heads/main, not refs/tags/*"; "" when no
// identity matches its SAN and issuer.
func (e *compiledPolicy) claimMiss(ev attest.Evidence) string {
	for _, m := range e.identities {
		if (m.id.Issuer != issuerAny && ev.Issuer != m.id.Issuer) || !m.san.MatchString(ev.SAN) {
			continue
		}
		var c struct{ repo, ref, signer, repoID, ownerID, runner string }
		if ev.Claims != nil {
			c.repo, c.ref, c.signer = ev.Claims.SourceRepositoryURI, ev.Claims.SourceRepositoryRef, ev.Claims.BuildSignerURI
			c.repoID, c.ownerID, c.runner = ev.Claims.SourceRepositoryIdentifier, ev.Claims.SourceRepositoryOwnerIdentifier, ev.Claims.RunnerEnvironment
		}
		for _, k := range []struct {
			key, want, got string
			ok             bool
		}{
			{"source_repository", m.id.SourceRepository, c.repo, matchOptional(m.repo, c.repo)},
			{"source_ref", m.id.SourceRef, c.ref, matchOptional(m.ref, c.ref)},
			{"build_signer", m.id.BuildSigner, c.signer, matchOptional(m.signer, c.signer)},
			{"repository_id", m.id.RepositoryID, c.repoID, equalOptional(m.id.RepositoryID, c.repoID)},
			{"owner_id", m.id.OwnerID, c.ownerID, equalOptional(m.id.OwnerID, c.ownerID)},
			{"runner_environment", m.id.RunnerEnvironment, c.runner, equalOptional(m.id.RunnerEnvironment, c.runner)},
		} {
			if k.ok {
				continue
			}
			got := fmt.Sprintf("%q", k.got)
			if k.got == "" {
				got = "absent"
			}
			return fmt.Sprintf("it matches %s but its %s is %s, not %q", m.id, k.key, got, k.want)
		}
	}
	return ""
}
