package policy

import "github.com/condasigs/condasigs/attest"

// Names for the tests of package policy_test only.
var (
	IssuerShorthands = issuerShorthands
	MatchSAN         = matchSAN
)

// MaxConfigFileSize is the size cap of configuration files.
const MaxConfigFileSize = maxConfigFileSize

// Check is check, for the tests.
func (id Identity) Check() error { return id.check() }

// Trusted is trusted, for the tests.
func (e *CompiledPolicy) Trusted(ev attest.Evidence) (Identity, bool) { return e.trusted(ev) }

// Len returns the number of pins, for the tests.
func (s *PinStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.pins {
		n += len(m)
	}
	return n
}

// Effective returns the effective policy, defaults filled in, for the tests.
func (e *CompiledPolicy) Effective() Policy { return e.policy }

// PinnedSignerOf is pinnedSignerOf, for the tests.
var PinnedSignerOf = pinnedSignerOf
