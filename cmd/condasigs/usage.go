package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/nearest"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/version"
)

// wantArgs returns an Args check that says, when the command line gives
// fewer than least or more than most (most < 0: no limit) arguments, what
// they are and what to do, with an example, instead of cobra's bare count.
func wantArgs(least, most int, what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < least:
			return usageError("%s needs %s, e.g. %s (%s --help says more)", cmd.CommandPath(), what, example, cmd.CommandPath())
		case most >= 0 && len(args) > most:
			return usageError("%s takes %s, but got %d arguments (%s): flags go before it, each with its value", cmd.CommandPath(), what, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// commandError rewrites cobra's error for an unknown subcommand, which
// spreads its suggestions over several lines, as one line that says what
// to do; other errors pass as they are.
func commandError(root *cobra.Command, err error) error {
	rest, ok := strings.CutPrefix(err.Error(), "unknown command ")
	if !ok {
		return err
	}
	name, rest, _ := strings.Cut(strings.TrimPrefix(rest, `"`), `"`)
	// ` for "condasigs trust-root"`: the command it is not a subcommand of.
	parent := root
	if path, ok := strings.CutPrefix(rest, ` for "`); ok {
		path, _, _ = strings.Cut(path, `"`)
		if c, _, err := root.Find(strings.Fields(path)[1:]); err == nil {
			parent = c
		}
	}
	help := parent.CommandPath() + " --help"
	if !parent.HasSubCommands() {
		// cobra.NoArgs says "unknown command" for any argument.
		return usageError("%s takes no arguments, but got %q (%s says what it takes)", parent.CommandPath(), name, help)
	}
	if parent.SuggestionsMinimumDistance <= 0 {
		parent.SuggestionsMinimumDistance = 2 // cobra's default, which only its own lookup sets
	}
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		return usageError("unknown command %q: did you mean %s? (%s lists the commands)", name, strings.Join(s, " or "), help)
	}
	return usageError("unknown command %q (%s lists the commands)", name, help)
}

// flagError says, for a flag the command does not know, which of its own
// it may have meant.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		if short, isShort := strings.CutPrefix(msg, "unknown shorthand flag: "); isShort {
			return usageError("unknown shorthand flag %s (%s --help lists the flags)", short, cmd.CommandPath())
		}
		return usageError("%v (%s --help lists the flags)", err, cmd.CommandPath())
	}
	if why := notForCommand(cmd, name); why != "" {
		return usageError("%s (%s --help lists the flags)", why, cmd.CommandPath())
	}
	if best := closestFlag(cmd.Flags(), name); best != "" {
		return usageError("unknown flag --%s: did you mean --%s? (%s --help lists the flags)", name, best, cmd.CommandPath())
	}
	return usageError("unknown flag --%s (%s --help lists the flags)", name, cmd.CommandPath())
}

// closestFlag is the flag of fs nearest to name, if one is near enough to
// be a typo: at most a third of its letters apart (at least 1, at most 3),
// or name is a prefix of it. Hidden aliases (gh's and cosign's spellings)
// count: they work, and their users type them.
func closestFlag(fs *pflag.FlagSet, name string) string {
	best, bestDist := "", -1
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" {
			return
		}
		d := nearest.Distance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		limit := min(max(len(f.Name)/3, 1), 3)
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// versionText is what --version and the version command print: the
// condasigs version, sigstore-go's, and the Go toolchain's.
func versionText() string {
	sigstore := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/sigstore/sigstore-go" {
				sigstore = dep.Version
				if dep.Replace != nil {
					sigstore = dep.Replace.Version + " (replaced)"
				}
			}
		}
	}
	return fmt.Sprintf("condasigs %s\nsigstore-go %s\n%s %s/%s\n", version.Version, sigstore, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of condasigs, sigstore-go and Go",
		Args:  wantArgs(0, 0, "no arguments", "condasigs version"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText())
			return err
		},
	}
}

// fileURLHint suggests the file:// form of arg (a local what: "file",
// "channel"), when arg is a path rather than a URL: absolute, relative
// with ./ or ../, or one that exists. A bare name (conda-forge) gets none:
// it is no more a path than a channel name.
func fileURLHint(arg, what string) string {
	if arg == "" || strings.Contains(arg, "://") {
		return ""
	}
	path := filepath.FromSlash(arg)
	_, statErr := os.Stat(path)
	if !filepath.IsAbs(path) && !strings.HasPrefix(arg, "./") && !strings.HasPrefix(arg, "../") && statErr != nil {
		return ""
	}
	return fmt.Sprintf("; for a local %s, give its URL: %s", what, pathURL(path))
}

// pathURL is the file:// URL of path, made absolute.
func pathURL(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows path, C:/x, is the URL path /C:/x
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// trustProblem is a failure to get the trusted root: said once, not as
// "trusted root: trustroot: reading the trusted root: ...".
func trustProblem(err error) error {
	if strings.HasPrefix(err.Error(), "trustroot: ") || strings.HasPrefix(err.Error(), "usage: ") {
		return err
	}
	return problem("trusted root: %v", err)
}

// warnPlainHTTP warns, once a host, about http:// URLs to hosts other than
// loopback: records and sidecars are checked whatever the transport, but
// what a channel serves in clear can be read and withheld on the way, and
// a token in the URL travels in clear.
func warnPlainHTTP(w io.Writer, urls []string) {
	seen := map[string]bool{}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || !strings.EqualFold(u.Scheme, "http") || seen[u.Host] {
			continue
		}
		seen[u.Host] = true
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			continue
		}
		fmt.Fprintf(w, "condasigs: warning: %s is plain http: anyone on the way can read what is fetched (a token in the URL included) and withhold or replay it; use https if the channel serves it\n",
			textsafe.Escape(conda.Redact(raw)))
	}
}
