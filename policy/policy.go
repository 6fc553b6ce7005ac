package policy

import (
	"errors"
	"fmt"
	"slices"

	"github.com/condasigs/condasigs/attest"
)

// Policy is the verification policy for one channel (or for all).
type Policy struct {
	// Require says what happens when attestations are missing, cannot be
	// retrieved, or do not verify; see the package documentation. Empty
	// means ModeError.
	Require Mode `json:"require"`
	// Identities are the trusted signers; a package passes only when a
	// bundle verifies and its signer matches one of them. At least one is
	// required.
	Identities []Identity `json:"trusted_identities"`
	// ChannelMismatch says what happens when a bundle's targetChannel is
	// not the channel the package came from (a mirror, or a bundle replayed
	// from another channel). Empty means ModeError.
	ChannelMismatch Mode `json:"channel_mismatch"`
	// UnknownPredicate says what a valid attestation of another predicate
	// type does: ModeIgnore (the default when empty) reports and skips it,
	// ModeWarn warns, ModeError rejects the package's attestations.
	UnknownPredicate Mode `json:"unknown_predicate"`
	// Pinning turns on identity pinning (trust on first use): when a package
	// verifies, its signer is compared with the one pinned for the package
	// name on this channel, and a different signer is an error (ModeError)
	// or a warning (ModeWarn). Empty or ModeIgnore turns pinning off.
	Pinning Mode `json:"pin,omitempty"`
}

// compiledPolicy is a checked Policy, ready to decide (see [Match.Decide]).
// It is immutable and safe for concurrent use.
type compiledPolicy struct {
	policy     Policy
	identities []identityMatcher
	// unchecked, when set, is the channel this policy checks nothing of:
	// its entry is disabled, or no entry covers it (see CompiledConfig.For).
	unchecked *unchecked
}

// unchecked names a channel whose packages are not checked: by its
// disabled entry, or, when no entry covers it, by its URL.
type unchecked struct{ entry, channel string }

// compile checks p and prepares it for use. Errors say how to fix p.
func compile(p Policy) (*compiledPolicy, error) {
	var errs []error
	var err error
	if p.Require, err = orDefault(p.Require, ModeError, "require"); err != nil {
		errs = append(errs, err)
	}
	if p.ChannelMismatch, err = orDefault(p.ChannelMismatch, ModeError, "channel_mismatch"); err != nil {
		errs = append(errs, err)
	}
	if p.UnknownPredicate, err = orDefault(p.UnknownPredicate, ModeIgnore, "unknown_predicate"); err != nil {
		errs = append(errs, err)
	}
	if p.Pinning == ModeIgnore {
		p.Pinning = ""
	} else if p.Pinning != "" {
		if _, err := parseMode(string(p.Pinning)); err != nil {
			errs = append(errs, fmt.Errorf("pin: %w", err))
		}
	}
	if len(p.Identities) == 0 {
		errs = append(errs, errors.New("no trusted identities: a package passes only when a bundle's signer matches one; add the SAN pattern and OIDC issuer of the channel's publisher"))
	}
	p.Identities = slices.Clone(p.Identities) // the caller's slice stays theirs
	e := &compiledPolicy{policy: p}
	for i, id := range p.Identities {
		m, err := compileIdentity(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.Identities[i] = m.id // the effective identity: issuer resolved
		e.identities = append(e.identities, m)
	}
	e.policy = p
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return e, nil
}

func orDefault(m, def Mode, field string) (Mode, error) {
	if m == "" {
		return def, nil
	}
	if _, err := parseMode(string(m)); err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return m, nil
}

// trusted returns the first trusted identity that the verified signer of
// ev matches, with its issuer shorthand resolved.
func (e *compiledPolicy) trusted(ev attest.Evidence) (Identity, bool) {
	for _, m := range e.identities {
		if m.match(ev) {
			return m.id, true
		}
	}
	return Identity{}, false
}
