package policy

import "github.com/condasigs/condasigs/attest"

// Names for the tests of package policy_test only.
var (
	IssuerShorthands = issuerShorthands
	MatchSAN         = matchSAN
)

// CatchAll is the catch-all entry's key.
const CatchAll = catchAll

// MaxConfigFileSize is the size cap of configuration files.
const MaxConfigFileSize = maxConfigFileSize

// Check is check, for the tests.
func (id Identity) Check() error { return id.check() }

// Trusted is trusted, for the tests.
func (e *compiledPolicy) Trusted(ev attest.Evidence) (Identity, bool) { return e.trusted(ev) }

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
func (e *compiledPolicy) Effective() Policy { return e.policy }

// PinnedSignerOf is pinnedSignerOf, for the tests.
var PinnedSignerOf = pinnedSignerOf

// Compile is compile, for the tests: one policy, without a configuration.
// Callers use CompileConfig and Match.Decide.
func Compile(p Policy) (*compiledPolicy, error) { return compile(p) }

// Decide is what Match.Decide does with the policy, for the tests.
func (e *compiledPolicy) Decide(in Input) Decision { return e.decideAll(in) }

// Effective returns the effective policy of the match, for the tests.
func (m Match) Effective() Policy { return m.policy.policy }
