package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/spf13/pflag"
)

// trustFlags select the trusted material and bound the run; verify, pin and
// the trust-root commands share them.
type trustFlags struct {
	trustedRoots []string
	addRoots     []string
	tufURL       string
	tufRoot      string
	staging      bool
	offline      bool
	tufCache     string
	timeout      time.Duration
	verbose      bool
}

// tufFlagNames are the flags that configure a TUF source; --trusted-root
// excludes them all.
var tufFlagNames = []string{"tuf-url", "tuf-root", "staging", "offline", "tuf-cache"}

func addTrustFlags(fl *pflag.FlagSet, f *trustFlags) {
	fl.StringArrayVar(&f.trustedRoots, "trusted-root", nil, "trusted_root.json to verify against, no network for trust (repeatable: several instances at once); excludes the TUF flags; default: the Sigstore public-good TUF repository")
	fl.StringArrayVar(&f.addRoots, "add-trusted-root", nil, "trust this instance's trusted_root.json too, beside the TUF root (repeatable), e.g. a private Sigstore instance or GitHub's; each bundle is checked against the instance that issued it")
	fl.StringVar(&f.tufURL, "tuf-url", "", "base URL of the TUF repository to take the trusted root from, e.g. a private Sigstore instance's (needs --tuf-root unless it is the public-good or staging repository)")
	fl.StringVar(&f.tufRoot, "tuf-root", "", "initial root.json of the TUF repository, obtained out of band (built in for public-good and staging)")
	fl.BoolVar(&f.staging, "staging", false, "use the Sigstore staging TUF repository and its built-in root.json")
	fl.BoolVar(&f.offline, "offline", false, "read the trusted root from the TUF cache alone, opening no connection (fails if the cache is empty or expired)")
	fl.StringVar(&f.tufCache, "tuf-cache", "", "TUF cache directory, one subdirectory per repository (default: <user cache dir>/condasigs/tuf)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "overall time limit, the trusted root's download included")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log requests and retries to stderr")
}

// check rejects contradictory trust flags.
func (f *trustFlags) check(fl *pflag.FlagSet) error {
	if f.timeout <= 0 {
		return usageError("--timeout must be positive, not %s", f.timeout)
	}
	if len(f.trustedRoots) > 0 {
		if len(f.addRoots) > 0 {
			return usageError("--add-trusted-root adds to the TUF root; with --trusted-root, repeat --trusted-root instead")
		}
		for _, name := range tufFlagNames {
			if fl.Changed(name) {
				return usageError("--trusted-root cannot be combined with --%s: a trusted_root.json file is the whole trust root, read without TUF or network", name)
			}
		}
		return nil
	}
	if f.staging && f.tufURL != "" {
		return usageError("--staging and --tuf-url both name the TUF repository: give one")
	}
	if fl.Changed("tuf-url") {
		u, err := url.Parse(f.tufURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return usageError("--tuf-url %q: want the http(s) base URL of a TUF repository", conda.Redact(f.tufURL))
		}
		if knownTUF(f.tufURL) == nil && f.tufRoot == "" {
			return usageError("--tuf-url %s is not the public-good or staging repository: give its initial root.json with --tuf-root FILE (from the instance's operator, out of band)", conda.Redact(f.tufURL))
		}
	}
	if fl.Changed("tuf-root") && f.tufRoot == "" {
		return usageError("--tuf-root needs a file name")
	}
	return nil
}

// knownTUF returns the options of the public-good or staging repository
// when rawURL names one of them, else nil.
func knownTUF(rawURL string) *trustroot.TUFOptions {
	norm := strings.ToLower(strings.TrimRight(rawURL, "/"))
	for _, o := range []trustroot.TUFOptions{trustroot.PublicGood(), trustroot.Staging()} {
		if norm == strings.ToLower(strings.TrimRight(o.RepositoryURL, "/")) {
			return &o
		}
	}
	return nil
}

// tufOptions builds the TUF source's options from checked flags.
func (f *trustFlags) tufOptions(logger *slog.Logger) (trustroot.TUFOptions, error) {
	opts := trustroot.PublicGood()
	switch {
	case f.staging:
		opts = trustroot.Staging()
	case f.tufURL != "":
		if k := knownTUF(f.tufURL); k != nil {
			opts = *k
		} else {
			opts = trustroot.TUFOptions{RepositoryURL: strings.TrimRight(f.tufURL, "/")}
		}
	}
	if f.tufRoot != "" {
		b, err := localfile.ReadFile(f.tufRoot, maxTrustDocSize)
		if err != nil {
			return opts, fmt.Errorf("--tuf-root: %w", err)
		}
		if err := tufRootMistake(f.tufRoot, b); err != nil {
			return opts, err
		}
		opts.Root = b
	}
	opts.CacheDir = f.tufCache
	opts.Offline = f.offline
	// One run, one root: no background refresh.
	opts.RefreshInterval = -1
	opts.Logger = logger
	// All TUF traffic goes through this client: the environment's proxy,
	// a bound on each request, retries with backoff; --timeout (the
	// context) bounds the whole load.
	opts.Fetch = fetch.Options{
		HTTPClient: &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			Timeout:   min(f.timeout, tufRequestTimeout),
		},
		Timeout:   f.timeout,
		UserAgent: "condasigs",
		Logger:    logger,
	}
	return opts, nil
}

// tufRequestTimeout bounds one TUF request (metadata and the trusted root
// are small).
const tufRequestTimeout = time.Minute

// debugLogger logs requests and retries to stderr with -v, else nothing.
func debugLogger(f trustFlags, stderr io.Writer) *slog.Logger {
	if !f.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: textsafe.ReplaceAttr}))
}

// trustLogger is the trust source's logger: the debug logger with -v, else
// warnings only (a cache that falls back to memory, an update that failed
// and left the cached root in use), on stderr.
func trustLogger(f trustFlags, debug *slog.Logger, stderr io.Writer) *slog.Logger {
	if f.verbose {
		return debug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return textsafe.ReplaceAttr(groups, a)
		},
	}))
}

// loadTrust opens the trust source the checked flags select. ctx bounds
// the initial load. The returned function releases the source.
func loadTrust(ctx context.Context, f trustFlags, logger *slog.Logger) (trustroot.Source, func(), error) {
	// A TUF root.json given as a trusted root: say so before TUF or the
	// parser says something else.
	if err := trustFileMistake(f); err != nil {
		return nil, nil, err
	}
	if len(f.trustedRoots) == 0 {
		src, closeTUF, err := loadTUF(ctx, f, logger)
		if err != nil || len(f.addRoots) == 0 {
			return src, closeTUF, err
		}
		extra, err := trustroot.FromFile(f.addRoots[0], f.addRoots[1:]...)
		if err != nil {
			closeTUF()
			return nil, nil, fmt.Errorf("--add-trusted-root: %w", err)
		}
		return trustroot.Combine(src, extra), closeTUF, nil
	}
	// Several instances: each bundle is verified against the one whose CA
	// issued its certificate.
	s, err := trustroot.FromFile(f.trustedRoots[0], f.trustedRoots[1:]...)
	if err != nil {
		return nil, nil, err
	}
	return s, func() {}, nil
}

func loadTUF(ctx context.Context, f trustFlags, logger *slog.Logger) (trustroot.Source, func(), error) {
	opts, err := f.tufOptions(logger)
	if err != nil {
		return nil, nil, err
	}
	t, err := trustroot.NewTUF(ctx, opts)
	if err == nil {
		return t, func() { t.Close() }, nil
	}
	if f.offline {
		cache := "the default TUF cache"
		if f.tufCache != "" {
			cache = "the TUF cache " + f.tufCache
		}
		return nil, nil, fmt.Errorf("--offline: no usable trusted root of %s in %s: %w; to fill the cache, run once online with the same --tuf-cache (e.g. condasigs trust-root show), or use --trusted-root FILE",
			conda.Redact(opts.RepositoryURL), cache, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return nil, nil, fmt.Errorf("%w (--timeout %s; to work without network, use --offline with a filled cache or --trusted-root FILE)", err, f.timeout)
	}
	return nil, nil, fmt.Errorf("%w (to work without network, use --offline with a filled cache or --trusted-root FILE)", err)
}

// ageValue is a --root-warn-age or --root-max-age: a positive duration
// (Go syntax plus a d suffix for days), or off.
type ageValue struct {
	d   time.Duration // 0: unset, the library default; negative: off
	set bool
}

var _ pflag.Value = (*ageValue)(nil)

func (a *ageValue) String() string {
	switch {
	case !a.set:
		return ""
	case a.d < 0:
		return "off"
	}
	return a.d.String()
}

func (a *ageValue) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	a.d, a.set = d, true
	return nil
}

func (a *ageValue) Type() string { return "duration" }

var daysRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)d(.*)$`)

// maxAgeDays keeps an age far below time.Duration's range.
const maxAgeDays = 100 * 365

// parseAge parses a positive duration such as 36h, 7d or 1d12h, or "off"
// (returned as -1).
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return -1, nil
	}
	var d time.Duration
	rest := s
	if m := daysRE.FindStringSubmatch(s); m != nil {
		days, err := strconv.ParseFloat(m[1], 64)
		if err != nil || days > maxAgeDays {
			return 0, fmt.Errorf("%q: too many days", s)
		}
		d = time.Duration(math.Round(days * float64(24*time.Hour)))
		rest = m[2]
		if rest == "" {
			rest = "0s"
		}
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: want e.g. 36h, 7d, 1d12h, or off", s)
	}
	if r < 0 || d+r <= 0 || r > maxAgeDays*24*time.Hour {
		return 0, fmt.Errorf("%q: want a positive duration, or off to turn the check off", s)
	}
	return d + r, nil
}

// checkAges rejects a warning age past the hard limit and says when the
// ages cannot apply.
func checkAges(f verifyFlags, warn func(string)) error {
	w, m := f.rootWarnAge, f.rootMaxAge
	if w.d > 0 && m.d > 0 && w.d > m.d {
		return usageError("--root-warn-age %s is longer than --root-max-age %s: the warning would never show", w.String(), m.String())
	}
	if len(f.trustedRoots) > 0 && (w.set || m.set) {
		warn("condasigs: note: --root-warn-age and --root-max-age apply to TUF roots; a --trusted-root file has no known age")
	}
	return nil
}
