package condasigs

import "github.com/condasigs/condasigs/policy"

// Summary counts the results of a batch, for the caller that must decide
// whether to go on with the transaction.
type Summary struct {
	Total  int
	Passed int
	Warned int
	// Failed counts the packages that failed the policy and those that
	// could not be verified (a Result with Err): both refuse the batch.
	Failed int
	// Errors counts the results with Err (a subset of Failed).
	Errors int
	// Refuse is true when the batch must be refused: a package failed or
	// could not be verified (Failed > 0). An empty batch is not refused.
	Refuse bool
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results)}
	for _, r := range results {
		switch {
		case r.Err != nil || r.Report == nil:
			s.Failed++
			s.Errors++
		case r.Report.Outcome == policy.Pass:
			s.Passed++
		case r.Report.Outcome == policy.Warn:
			s.Warned++
		default:
			s.Failed++
		}
	}
	s.Refuse = s.Failed > 0
	return s
}
