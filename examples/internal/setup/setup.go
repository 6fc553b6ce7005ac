// Package setup holds what the examples share and none of them is about:
// a repeatable string flag, the policy flags, and the default trusted root.
// Each example's main.go keeps the library calls it demonstrates.
package setup

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// Strings is a repeatable string flag.
type Strings []string

// String returns the values, comma-separated.
func (l *Strings) String() string { return strings.Join(*l, ", ") }

// Set adds one value.
func (l *Strings) Set(s string) error { *l = append(*l, s); return nil }

// Policy is the policy given on the command line: a -config file, or
// -identity patterns with their -issuer and -require.
type Policy struct {
	Identities Strings
	Issuer     string
	Require    string
	Config     string
}

// Register adds the policy flags to fs; prefix starts their help (e.g.
// "with -verify: ").
func (p *Policy) Register(fs *flag.FlagSet, prefix string, withConfig bool) {
	fs.Var(&p.Identities, "identity", prefix+"trusted signer: a SAN `pattern`, * matching any run (repeatable)")
	fs.StringVar(&p.Issuer, "issuer", "https://token.actions.githubusercontent.com", prefix+"OIDC issuer of the -identity signers")
	fs.StringVar(&p.Require, "require", "error", prefix+"missing or failing attestations: error, warn or ignore")
	if withConfig {
		fs.StringVar(&p.Config, "config", "", "per-channel policy file (YAML), instead of -identity, -issuer and -require")
	}
}

// Apply sets opts.Config from the -config file, or opts.Policy from the
// identity flags.
func (p *Policy) Apply(opts *condasigs.Options) error {
	if p.Config != "" {
		if len(p.Identities) > 0 {
			return errors.New("-config replaces -identity, -issuer and -require: give one or the other")
		}
		cfg, err := policy.LoadConfig(p.Config)
		if err != nil {
			return err
		}
		opts.Config = &cfg
		return nil
	}
	opts.Policy = policy.Policy{Require: policy.Mode(p.Require)}
	for _, san := range p.Identities {
		opts.Policy.Identities = append(opts.Policy.Identities, policy.Identity{SAN: san, Issuer: p.Issuer})
	}
	return nil
}

// Trust returns the trusted root: a trusted_root.json file when path is
// set, else the Sigstore public-good TUF repository (cached, refreshed in
// the background until the returned function is called).
func Trust(ctx context.Context, path string, log *slog.Logger) (trustroot.Source, func(), error) {
	if path != "" {
		src, err := trustroot.FromFile(path)
		return src, func() {}, err
	}
	opts := trustroot.PublicGood()
	opts.Logger = log
	tuf, err := trustroot.NewTUF(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	return tuf, func() { tuf.Close() }, nil
}
