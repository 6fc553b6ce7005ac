package policy

// Names for the tests of package policy_test only.
var (
	IssuerShorthands = issuerShorthands
	MatchSAN         = matchSAN
)
