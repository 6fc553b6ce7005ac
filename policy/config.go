package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/condasigs/condasigs/conda"
)

// catchAll is the channel key of the catch-all entry, the one that covers
// the channels no other entry matches: "*" in a configuration file, and
// the Entry of a [Match] it made. In Go the catch-all is [Config.Default].
const catchAll = "*"

// Config is a whole policy configuration: one entry per channel, and an
// optional catch-all. It is what a configuration file holds (see
// [ParseConfig]); [CompileConfig] checks it and prepares it for use.
//
// There is one way to write the catch-all: in a file, the "*" entry under
// attestations: (once); in Go, the Default field. [CompileConfig] refuses a
// Channels entry whose Channel is "*".
type Config struct {
	// ChannelAlias expands channel names to URLs (default
	// https://conda.anaconda.org, as conda's channel_alias).
	ChannelAlias string `json:"channel_alias,omitempty"`
	// Channels are the per-channel entries, in file order; none of them
	// may be the catch-all (Channel "*").
	Channels []ChannelPolicy `json:"channels"`
	// Default, if set, is the catch-all: it covers every channel no entry
	// matches. Without it, packages of such channels are not checked, and
	// reports say so. Its Channel is "*" (as in a file) or empty; it
	// cannot have Mirrors. A [Match] it made has Entry "*".
	Default *ChannelPolicy `json:"default,omitempty"`
}

// ChannelPolicy is the policy of one channel.
type ChannelPolicy struct {
	// Channel is a channel name ("conda-forge", expanded with the channel
	// alias) or URL ("https://prefix.dev/my-channel"), or "*" for the
	// catch-all.
	Channel string `json:"channel"`
	// Enabled turns verification on for the channel. A disabled channel's
	// packages are not checked at all.
	Enabled bool `json:"enabled"`
	// Mirrors are other URLs serving this channel's packages unchanged.
	// A package from a mirror gets this entry's policy, and its
	// attestations must name this channel as their targetChannel.
	Mirrors []string `json:"mirrors,omitempty"`
	// Policy is the rest: require mode, trusted identities, rules.
	Policy
}

// channelError is a problem with one channel entry of a Config.
type channelError struct {
	// Channel is the entry's key as written (it may hold credentials;
	// Error redacts them).
	Channel string
	Err     error
}

// Error names the entry, redacted, and the problem.
func (e *channelError) Error() string {
	return fmt.Sprintf("channel %q: %v", redactChannel(e.Channel), e.Err)
}

// Unwrap returns the problem.
func (e *channelError) Unwrap() error { return e.Err }

// redactChannel returns a channel name or URL fit for messages.
func redactChannel(s string) string {
	if strings.Contains(s, "://") {
		return conda.Redact(s)
	}
	// A name: its /t/<token> segments too.
	const base = "https://h/"
	if r := conda.Redact(base + strings.TrimLeft(s, "/")); strings.HasPrefix(r, base) {
		return r[len(base):]
	}
	return s
}

// CompiledConfig is a compiled Config: immutable and safe for concurrent use.
type CompiledConfig struct {
	config   Config
	channels []compiledChannel // in file order
	byURL    []urlEntry        // every channel and mirror URL, most specific first
	fallback *compiledChannel
}

type urlEntry struct {
	url string
	cc  *compiledChannel
}

// Match is the rule that applies to one channel.
type Match struct {
	// Entry is the configuration entry that matched, as written (its
	// Channel is the name or URL of the file, or "*" for the catch-all).
	Entry string
	// Channel is the canonical URL of the matched channel: what
	// attestations must name as targetChannel. For the catch-all it is the
	// package's own channel.
	Channel string
	// Enabled is false for a disabled entry and for an unconfigured
	// channel (no entry and no catch-all).
	Enabled bool
	// policy decides (see [Match.Decide]); nil in a Match not made by
	// [CompiledConfig.For].
	policy *compiledPolicy
}

type compiledChannel struct {
	entry  string
	url    string   // normalised canonical URL
	urls   []string // url and the mirrors, normalised
	enable bool
	engine *compiledPolicy // of a disabled entry: one that checks nothing
}

// CompileConfig checks c and prepares it for use. Every problem is
// reported, each naming its entry and saying how to fix it; a catch-all
// written anywhere but Default is one.
func CompileConfig(c Config) (*CompiledConfig, error) {
	r := &CompiledConfig{config: c}
	var errs []error
	seen := map[string]string{}
	for _, cp := range c.Channels {
		if cp.Channel == catchAll {
			errs = append(errs, &channelError{catchAll, errors.New("the catch-all is Config.Default, not an entry of Config.Channels: move it there (a configuration has one catch-all)")})
			continue
		}
		cc, err := compileChannel(cp, c.ChannelAlias)
		if err != nil {
			errs = append(errs, err)
		}
		for _, u := range cc.urls { // known even when the policy has errors
			if prev, dup := seen[u]; dup {
				errs = append(errs, &channelError{cp.Channel, fmt.Errorf("%s is also covered by entry %q; merge the two entries", u, redactChannel(prev))})
			}
			seen[u] = cp.Channel
		}
		r.channels = append(r.channels, cc)
	}
	if c.Default != nil && c.Default.Channel != "" && c.Default.Channel != catchAll {
		errs = append(errs, &channelError{c.Default.Channel, fmt.Errorf("Config.Default is the catch-all, for every channel no entry matches: its Channel is %q or empty; give this channel an entry of Config.Channels", catchAll)})
	} else if c.Default != nil {
		d := *c.Default
		d.Channel = catchAll
		cc, err := compileChannel(d, c.ChannelAlias)
		if err != nil {
			errs = append(errs, err)
		} else {
			r.fallback = &cc
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range r.channels {
		for _, u := range r.channels[i].urls {
			r.byURL = append(r.byURL, urlEntry{u, &r.channels[i]})
		}
	}
	// Most specific first: the longest URL wins among the matches.
	slices.SortStableFunc(r.byURL, func(a, b urlEntry) int { return len(b.url) - len(a.url) })
	return r, nil
}

func compileChannel(cp ChannelPolicy, alias string) (compiledChannel, error) {
	cc := compiledChannel{entry: cp.Channel, enable: cp.Enabled}
	if cp.Channel != catchAll {
		u, err := entryURL(cp.Channel, alias)
		if err != nil {
			return cc, &channelError{cp.Channel, err}
		}
		cc.url = u
		cc.urls = []string{u}
		for _, m := range cp.Mirrors {
			mu, err := entryURL(m, alias)
			if err != nil {
				return cc, &channelError{cp.Channel, fmt.Errorf("mirror %q: %w", redactChannel(m), err)}
			}
			cc.urls = append(cc.urls, mu)
		}
	} else if len(cp.Mirrors) > 0 {
		return cc, &channelError{catchAll, errors.New("the catch-all entry cannot have mirrors")}
	}
	if !cp.Enabled {
		cc.engine = &compiledPolicy{unchecked: &unchecked{entry: cp.Channel}}
		return cc, nil
	}
	e, err := compile(cp.Policy)
	if err != nil {
		return cc, &channelError{cp.Channel, errors.Unwrap(err)}
	}
	cc.engine = e
	return cc, nil
}

// For returns the rule for the channel at channelURL: the entry whose
// channel or mirror URL is the longest prefix of it on whole path segments,
// else the catch-all, else an unconfigured (not Enabled) Match. A channel
// URL that cannot be normalised is an error: no rule can be chosen for it,
// and no targetChannel compared with it.
func (r *CompiledConfig) For(channelURL string) (Match, error) {
	u, err := conda.ChannelURL(channelURL, r.config.ChannelAlias)
	if err != nil {
		return Match{}, fmt.Errorf("policy: channel %q: %w", redactChannel(channelURL), err)
	}
	for _, ue := range r.byURL {
		if segmentPrefix(ue.url, u) {
			cc := ue.cc
			return Match{Entry: cc.entry, Channel: cc.url, Enabled: cc.enable, policy: cc.engine}, nil
		}
	}
	if r.fallback != nil {
		return Match{Entry: catchAll, Channel: u, Enabled: r.fallback.enable, policy: r.fallback.engine}, nil
	}
	return Match{Channel: u, policy: &compiledPolicy{unchecked: &unchecked{channel: u}}}, nil
}
