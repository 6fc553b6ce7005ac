package condasigs

import (
	"context"
	"fmt"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
)

// readRecords reads the record of each package whose Record is empty,
// from v.records, each channel and subdir's repodata once, and only for
// channels whose policy is enabled (a disabled channel's package is
// reported without it). It sets, for each package with a nil lock state,
// what reading found: the record read, the record unavailable, or
// misuse.
func (v *Verifier) readRecords(ctx context.Context, pkgs []Package, locks []*lockState, fetchers int) {
	var idx []int
	var urls []string
	for i, p := range pkgs {
		if locks[i] != nil || p.Record != (fetch.Record{}) || p.URL == "" {
			continue // known, given by the caller, or Verify reports the misuse
		}
		loc, err := conda.SplitPackageURL(p.URL)
		if err != nil {
			locks[i] = &lockState{misuse: fmt.Errorf("condasigs: %w", err)}
			continue
		}
		pkgs[i].Record.Filename = loc.Filename
		channel := p.Channel
		if channel == "" {
			channel = loc.Channel
		}
		if ci, err := v.channel(channel); err != nil || !ci.match.Enabled {
			continue // Verify reports the error, or the disabled channel
		}
		idx = append(idx, i)
		urls = append(urls, p.URL)
	}
	if len(idx) == 0 {
		return
	}
	found := fetch.Resolve(ctx, v.records, urls, min(max(fetchers, 0), maxPool))
	for k, i := range idx {
		switch f := found[k]; {
		case ctx.Err() != nil:
			locks[i] = &lockState{misuse: fmt.Errorf("condasigs: %w", ctx.Err())}
		case f.Err != nil && (fetchKind(f.Err) == "" || fetchKind(f.Err) == fetch.KindInvalidURL):
			locks[i] = &lockState{misuse: fmt.Errorf("condasigs: %w", f.Err)}
		case f.Err != nil:
			locks[i] = &lockState{unavailable: f.Err, source: f.Source}
		default:
			pkgs[i].Record = f.Record
			locks[i] = &lockState{read: true, source: f.Source}
		}
	}
}
