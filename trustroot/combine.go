package trustroot

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// combined is a Source of several sources at once, e.g. the public-good
// TUF repository plus a private instance's trusted_root.json plus GitHub's:
// its material holds each of theirs, so each bundle is verified against the
// instance that issued it. A refresh of any member shows in the next
// Snapshot.
type combined struct {
	sources []Source
	mu      sync.Mutex
	members []*Snapshot // the member snapshots snap was built from
	snap    *Snapshot
}

// Combine returns a Source of all sources at once, e.g. the public-good
// TUF repository plus a private instance's trusted_root.json plus
// GitHub's: its material holds each of theirs, so each bundle is verified
// against the instance that issued it. A refresh of any member shows in
// the next Snapshot, which is the same pointer as long as no member
// changed.
func Combine(sources ...Source) Source { return &combined{sources: sources} }

// Snapshot returns the members' current material as one set. The result is
// the same pointer as long as no member changed.
func (c *combined) Snapshot(ctx context.Context) (*Snapshot, error) {
	members := make([]*Snapshot, len(c.sources))
	for i, s := range c.sources {
		snap, err := s.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		members[i] = snap
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != nil && samePointers(c.members, members) {
		return c.snap, nil
	}
	c.members, c.snap = members, combine(members)
	return c.snap, nil
}

func samePointers(a, b []*Snapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// combine builds the memberSet and the Info of member snapshots. The age is the
// oldest TUF member's (the only kind whose age is known), unknown if any
// TUF member's is; the expiry the earliest.
func combine(members []*Snapshot) *Snapshot {
	var set memberSet
	info := Info{Kind: "set"}
	var sources, digests []string
	for _, m := range members {
		digests = append(digests, m.Info.Digest)
		if inner, ok := m.Material.(memberSet); ok {
			set = append(set, inner...)
		} else {
			set = append(set, m.Material)
		}
		sources = append(sources, m.Info.Kind+" "+m.Info.Source)
		switch {
		case m.Info.AgeUnknown != "":
			if info.AgeUnknown == "" {
				info.AgeUnknown = m.Info.Source + ": " + m.Info.AgeUnknown
			}
		case (m.Info.Kind == "tuf" || m.Info.Kind == "set") && !m.Info.LoadedAt.IsZero() &&
			(info.LoadedAt.IsZero() || m.Info.LoadedAt.Before(info.LoadedAt)):
			info.LoadedAt = m.Info.LoadedAt
		}
		info.Expires = earliest(info.Expires, m.Info.Expires)
		info.FromCache = info.FromCache || m.Info.FromCache
	}
	if info.AgeUnknown != "" {
		info.LoadedAt = time.Time{}
	}
	info.Source = strings.Join(sources, "; ")
	info.Digest = digestOfSet(digests)
	return &Snapshot{Material: root.TrustedMaterial(set), Info: info}
}
