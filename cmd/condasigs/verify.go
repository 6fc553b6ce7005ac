package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/condasigs/condasigs/policy"
	"github.com/spf13/cobra"
)

type verifyFlags struct {
	trustFlags
	rootWarnAge     ageValue
	rootMaxAge      ageValue
	config          string
	pins            string
	pin             string
	ids             identityFlags
	require         string
	channelMismatch string
	artifacts       []string
	repodata        string
	channel         string
	format          string
	maxSidecarSize  int64
	recordSources   []string // as given: shards, zst, json
	bundles         []string // verify --bundle FILE (local.go): one
	// sidecars, if set, replaces the sidecar cache: verify --bundle
	// serves its file through it.
	sidecars fetch.Cache
	// verify-env only.
	cacheDir string
	noCache  bool
	caches   cacheSet // of cacheDir (openCacheDir)
	jobs     int
	// verify-env: packages without sha256 in the lock file
	downloadUnhashed      bool
	keepDownloads         string
	installerChecksSHA256 bool
}

// defaultMaxSidecarSize is --max-sidecar-size's default: the library's
// (fetch.Options.MaxSidecarSize left zero), which a test holds it to.
const defaultMaxSidecarSize = 4 << 20

func newVerifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [flags] PACKAGE-URL...",
		Short: "Verify the attestations of conda packages",
		Long: `Verify the attestations of conda packages.

Each PACKAGE-URL is <channel>/<subdir>/<filename> (http, https or file). The
record is read from <channel>/<subdir>/repodata.json (or --repodata), the
sidecar from the content-addressed URL <package-url>.sigs.<attestations_sha256>.

The policy comes from --config FILE (per channel), or from the identity
flags with --require and --channel-mismatch (one policy for all channels).

` + identityHelp + `

Exit status: 0 when every package passes (warnings allowed), 1 when any
fails the policy, 2 for usage, configuration or trust-root problems, and
when a package could not be verified (a timeout, a cancellation): the
report lists it and those after it with status error.`,
		Example: `  condasigs verify --trusted-root trusted_root.json \
    --identity 'https://github.com/prefix-dev/sigstore-example/*' \
    --issuer https://token.actions.githubusercontent.com \
    https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda

  condasigs verify --config condasigs.yaml --pins pins.json URL...`,
		Args: wantArgs(1, -1, "at least one PACKAGE-URL (<channel>/<subdir>/<filename>, http, https or file)", "https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("bundle") {
				return runVerifyBundle(cmd, f, args)
			}
			s, err := openSession(cmd, f, args, false)
			if err != nil {
				return err
			}
			defer s.close()
			reports, err := s.verifyAll(cmd.Context(), args)
			return s.finish(cmd, f.format, reports, err)
		},
	}
	addVerifyFlags(cmd, &f)
	addBundle(cmd, &f)
	return cmd
}

func addVerifyFlags(cmd *cobra.Command, f *verifyFlags) {
	addPolicyFlags(cmd, f)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.artifacts, "artifact", nil, "package file to hash and check against its record's sha256; matched to a PACKAGE-URL by file name (repeatable)")
	fl.StringVar(&f.repodata, "repodata", "", "read records from this repodata.json file instead of the channel's")
	onceStringVar(fl, &f.channel, "channel", "", "URL of the channel the packages belong to, when PACKAGE-URLs point to a local copy or mirror of it (compared with each attestation's targetChannel)")
}

// addPolicyFlags adds the flags of every verifying command: trust, policy,
// output.
func addPolicyFlags(cmd *cobra.Command, f *verifyFlags) {
	fl := cmd.Flags()
	addTrustFlags(fl, &f.trustFlags)
	fl.Var(&f.rootWarnAge, "root-warn-age", "warn in the report when the TUF trusted root was last updated longer ago than this: a duration such as 36h or 7d, or off (default 7d)")
	fl.Var(&f.rootMaxAge, "root-max-age", "fail when the TUF trusted root was last updated longer ago than this: a duration such as 30d, or off (default off)")
	onceStringVar(fl, &f.config, "config", "", "policy file (YAML or JSON) with per-channel entries; excludes the identity and claim flags, --require, --channel-mismatch and --pin")
	onceStringVar(fl, &f.pins, "pins", "", "identity pin file, for policies that pin signers")
	onceStringVar(fl, &f.pin, "pin", "", "identity pinning for the --identity policy: error or warn when a package's signer changes (needs --pins)")
	addIdentityFlags(fl, &f.ids)
	onceStringVar(fl, &f.require, "require", "error", "what missing, unretrievable or unverifiable attestations do: error, warn or ignore")
	onceStringVar(fl, &f.channelMismatch, "channel-mismatch", "error", "what an attestation for another channel does: error, warn (e.g. for a mirror) or ignore")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.Int64Var(&f.maxSidecarSize, "max-sidecar-size", defaultMaxSidecarSize, "sidecar size cap in bytes (positive)")
	fl.StringSliceVar(&f.recordSources, "record-source", nil, "where records are read from, in the order tried: shards (CEP 16 sharded repodata), zst (repodata.json.zst), json (repodata.json); one the channel does not serve moves on to the next (default shards,zst,json)")
}

// recordSourceFiles maps --record-source's words to the documents they name.
var recordSourceFiles = map[string]string{
	"shards": "repodata_shards.msgpack.zst",
	"zst":    "repodata.json.zst",
	"json":   "repodata.json",
}

// recordSources returns the documents of --record-source, in order.
func recordSources(words []string) ([]string, error) {
	var out []string
	for _, w := range words {
		// The word, or the file name it stands for (as reports print it).
		file, ok := recordSourceFiles[strings.ToLower(strings.TrimSpace(w))]
		for _, long := range recordSourceFiles {
			if w == long {
				file, ok = long, true
			}
		}
		if !ok {
			return nil, usageError("--record-source %q: give shards, zst or json (comma-separated, in the order to try), or leave it out for shards,zst,json", w)
		}
		if slices.Contains(out, file) {
			return nil, usageError("--record-source lists %s twice: give each source once", w)
		}
		out = append(out, file)
	}
	return out, nil
}

// session is one run's verifier and inputs.
type session struct {
	v         *condasigs.Verifier
	artifacts map[string]string
	channel   string
	close     func()
}

// openSession checks the flags and builds the verifier. For pinning, the
// pin file is not consulted: the caller compares and records pins itself.
func openSession(cmd *cobra.Command, f verifyFlags, urls []string, forPinning bool) (*session, error) {
	if err := checkFlags(cmd, f); err != nil {
		return nil, err
	}
	if err := checkAges(f, func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), msg) }); err != nil {
		return nil, err
	}
	pol, cfg, err := buildPolicy(cmd, f, forPinning)
	if err != nil {
		return nil, err
	}
	wanted, err := packageNames(urls)
	if err != nil {
		return nil, err
	}
	warnPlainHTTP(cmd.ErrOrStderr(), append([]string{f.channel}, urls...))
	artifacts, err := hashArtifacts(f.artifacts, wanted)
	if err != nil {
		return nil, err
	}
	var pins *policy.PinStore
	if f.pins != "" && !forPinning {
		if err := checkPinsExist(cmd.Name(), f.pins); err != nil {
			return nil, err
		}
		if pins, err = policy.LoadPins(f.pins); err != nil {
			return nil, problem("%v", err)
		}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	cmd.SetContext(ctx)

	logger := debugLogger(f.trustFlags, cmd.ErrOrStderr())
	sidecars, verdicts, repodata := f.caches.sidecars, f.caches.verdicts, f.caches.repodata
	if f.sidecars != nil {
		sidecars = f.sidecars
	}
	sources, err := recordSources(f.recordSources)
	if err != nil {
		cancel()
		return nil, err
	}
	fetcher := fetch.New(fetch.Options{MaxSidecarSize: f.maxSidecarSize, AllowFile: true, Logger: logger, UserAgent: "condasigs",
		Cache: sidecars, RepodataDir: repodata, RecordSources: sources})
	trust, closeTrust, err := loadTrust(ctx, f.trustFlags, trustLogger(f.trustFlags, logger, cmd.ErrOrStderr()))
	if err != nil {
		cancel()
		return nil, trustProblem(err)
	}
	var records fetch.RecordSource // nil: the channels' repodata
	if f.repodata != "" {
		records = fileRecords{path: f.repodata}
	}
	v, err := condasigs.New(condasigs.Options{Trust: trust, Policy: pol, Config: cfg, PinStore: pins, Fetcher: fetcher, Records: records, Logger: logger, VerdictCache: verdicts,
		TrustRootWarnAge: f.rootWarnAge.d, TrustRootMaxAge: f.rootMaxAge.d})
	if err != nil {
		closeTrust()
		cancel()
		return nil, problem("%v", err)
	}
	if pins == nil && pinRules(pol, cfg) && !forPinning {
		fmt.Fprintln(cmd.ErrOrStderr(), "condasigs: warning: the policy pins signers but no --pins file is given; signers are not compared with pins")
	}
	if pins != nil && !pinRules(pol, cfg) {
		fmt.Fprintln(cmd.ErrOrStderr(), "condasigs: warning: --pins is given but the policy pins no signer, so no signer is compared with the pins: add --pin error (or pin: error to the policy file's entries)")
	}
	return &session{v: v, artifacts: artifacts, channel: f.channel,
		close: func() { closeTrust(); cancel() }}, nil
}

// checkFlags rejects flag values that are misspelt, contradict each
// other, or would make the run check something else than asked without
// saying so: a CI gate with a typo must not pass.
func checkFlags(cmd *cobra.Command, f verifyFlags) error {
	fl := cmd.Flags()
	if err := checkFormat(cmd.Name(), f.format); err != nil {
		return err
	}
	if err := f.check(fl); err != nil {
		return err
	}
	if f.maxSidecarSize <= 0 {
		return usageError("--max-sidecar-size must be a positive number of bytes, not %d; leave it out for the default, %d (4 MiB)", f.maxSidecarSize, defaultMaxSidecarSize)
	}
	if fl.Changed("channel") {
		if err := checkChannelURL(f.channel); err != nil {
			return err
		}
	}
	if fl.Changed("repodata") {
		if err := checkRepodataFile(f.repodata); err != nil {
			return err
		}
		if fl.Changed("record-source") {
			return usageError("--record-source and --repodata exclude each other: --repodata reads every record from one file")
		}
	}
	if _, err := recordSources(f.recordSources); err != nil {
		return err
	}
	return nil
}

// checkChannelURL accepts a --channel that is a channel's http(s) or file
// URL. Anything else, a channel name included, would be read as a name
// under the default channel alias: another channel than meant.
func checkChannelURL(channel string) error {
	const want = "give the URL of the channel the packages were published to, e.g. https://conda.anaconda.org/conda-forge"
	if channel == "" {
		return usageError("--channel is empty: %s, or leave --channel out to use the channel of each PACKAGE-URL", want)
	}
	scheme, _, ok := strings.Cut(channel, "://")
	if !ok {
		return usageError("--channel %q is not an http, https or file URL: %s%s", redactNonURL(channel), want, fileURLHint(channel, "channel"))
	}
	if !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "file") {
		return usageError("--channel %s is not an http, https or file URL: %s", conda.Redact(channel), want)
	}
	if _, err := conda.NormalizeChannel(channel); err != nil {
		return usageError("--channel: %v: %s", err, want)
	}
	return nil
}

// checkRepodataFile accepts a --repodata that is a readable file: one that
// cannot be read would fail every package as if the channel had no record
// of it.
func checkRepodataFile(path string) error {
	const want = "give the path of the repodata.json of the packages' subdir, or leave --repodata out to read the channel's"
	if path == "" {
		return usageError("--repodata is empty: %s", want)
	}
	file, fi, err := localfile.Open(path) // a FIFO would block the open
	if errors.Is(err, localfile.ErrNotRegular) {
		return usageError("--repodata %s is %v: %s", path, err, want)
	}
	if err != nil {
		return usageError("--repodata: %v: %s", err, want)
	}
	defer file.Close()
	if fi.IsDir() {
		return usageError("--repodata %s is not a file: %s", path, want)
	}
	return nil
}

// pinRules reports whether the policy, or an enabled entry of the
// configuration when there is one, pins signers.
func pinRules(pol policy.Policy, cfg *policy.Config) bool {
	pins := func(p policy.Policy) bool { return p.Pinning != "" && p.Pinning != policy.ModeIgnore }
	if cfg == nil {
		return pins(pol)
	}
	for _, cp := range cfg.Channels {
		if cp.Enabled && pins(cp.Policy) {
			return true
		}
	}
	return cfg.Default != nil && cfg.Default.Enabled && pins(cfg.Default.Policy)
}

// verifyAll verifies the packages, as VerifyAll does: each record is read
// from its channel's repodata (or --repodata), each document once. A
// package that could not be verified (cancellation, an unusable trust
// root) is reported as not verified (errorReport), so that the report lists
// every package; the first such error is returned.
func (s *session) verifyAll(ctx context.Context, urls []string) ([]*condasigs.Report, error) {
	pkgs := make([]condasigs.Package, len(urls))
	for i, u := range urls {
		pkgs[i] = condasigs.Package{URL: u, Channel: s.channel}
		if loc, err := conda.SplitPackageURL(u); err == nil {
			pkgs[i].ArtifactSHA256 = s.artifacts[loc.Filename]
		}
	}
	return s.verifyPackages(ctx, pkgs, urls)
}

// verifyPackages is verifyAll of packages made already; urls[i] is
// pkgs[i]'s URL.
func (s *session) verifyPackages(ctx context.Context, pkgs []condasigs.Package, urls []string) ([]*condasigs.Report, error) {
	reports := make([]*condasigs.Report, 0, len(urls))
	var first error
	for i, r := range s.v.VerifyAll(ctx, pkgs, condasigs.BatchOptions{}) {
		if r.Err != nil || r.Report == nil {
			err := r.Err
			if err == nil {
				err = errors.New("no report")
			}
			if first == nil {
				first = err
			}
			reports = append(reports, errorReport(urls[i], err))
			continue
		}
		reports = append(reports, r.Report)
	}
	return reports, first
}

// finish prints the reports, even those of a run a problem stopped, and
// returns the exit status as an error.
func (s *session) finish(cmd *cobra.Command, format string, reports []*condasigs.Report, verr error) error {
	if err := render(cmd.OutOrStdout(), format, reports); err != nil {
		return problem("writing the report: %v", err)
	}
	if verr != nil {
		return problem("%v", verr)
	}
	for _, r := range reports {
		if r.Outcome == policy.Fail {
			return exitError{exitFail}
		}
	}
	return nil
}

// buildPolicy returns the policy of the flags: a Config from --config, or a
// single Policy from the identity flags.
func buildPolicy(cmd *cobra.Command, f verifyFlags, forPinning bool) (policy.Policy, *policy.Config, error) {
	if f.config != "" {
		if err := checkIdentityFlagsWithConfig(cmd); err != nil {
			return policy.Policy{}, nil, err
		}
		for _, name := range []string{"require", "channel-mismatch", "pin"} {
			if cmd.Flags().Changed(name) {
				return policy.Policy{}, nil, usageError("--%s cannot be combined with --config: set it in the policy file", name)
			}
		}
		cfg, err := policy.LoadConfig(f.config)
		if err != nil {
			return policy.Policy{}, nil, problem("%v", err)
		}
		return policy.Policy{}, &cfg, nil
	}
	ids, err := f.ids.identities(cmd)
	if err != nil {
		return policy.Policy{}, nil, err
	}
	req, err := modeFlag("require", f.require)
	if err != nil {
		return policy.Policy{}, nil, err
	}
	cm, err := modeFlag("channel-mismatch", f.channelMismatch)
	if err != nil {
		return policy.Policy{}, nil, err
	}
	p := policy.Policy{Require: req, ChannelMismatch: cm}
	if f.pin != "" {
		if p.Pinning, err = modeFlag("pin", f.pin); err != nil {
			return policy.Policy{}, nil, err
		}
	}
	if forPinning && p.Pinning == "" {
		p.Pinning = policy.ModeError
	}
	if p.Pinning != "" && f.pins == "" {
		return policy.Policy{}, nil, usageError("--pin needs --pins FILE")
	}
	p.Identities = ids
	// The checks condasigs.New makes, before anything else is done.
	if _, err := policy.CompileConfig(policy.Config{Default: &policy.ChannelPolicy{Enabled: true, Policy: p}}); err != nil {
		return policy.Policy{}, nil, usageError("%v", withoutEntry(err))
	}
	return p, nil, nil
}

// withoutEntry is err, a CompileConfig error, without the name of the
// entry each problem is reported under: the flags make one policy, and
// the catch-all entry that holds it is not the user's.
func withoutEntry(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var problems []error
	for _, e := range j.Unwrap() {
		if inner := errors.Unwrap(e); inner != nil {
			e = inner
		}
		problems = append(problems, e)
	}
	return errors.Join(problems...)
}

// modeFlag returns the policy mode of a flag's value.
func modeFlag(name, value string) (policy.Mode, error) {
	switch m := policy.Mode(value); m {
	case policy.ModeError, policy.ModeWarn, policy.ModeIgnore:
		return m, nil
	}
	return "", usageError("--%s %q: give error, warn or ignore", name, value)
}

// packageNames returns the file names of the package URLs.
func packageNames(urls []string) (map[string]bool, error) {
	names := map[string]bool{}
	for _, u := range urls {
		loc, err := conda.SplitPackageURL(u)
		if err != nil {
			return nil, usageError("%v%s", err, fileURLHint(u, "file"))
		}
		if _, err := conda.ParseFilename(loc.Filename); err != nil {
			return nil, usageError("%s: %v: give the URL of a package, <channel>/<subdir>/<name>-<version>-<build>.conda or .tar.bz2", conda.Redact(u), err)
		}
		if _, err := conda.NormalizeChannel(loc.Channel); err != nil {
			return nil, usageError("%s: %v: give the URL of a package, <channel>/<subdir>/<filename>", conda.Redact(u), err)
		}
		names[loc.Filename] = true
	}
	return names, nil
}

// hashArtifacts hashes each --artifact file and keys it by file name, which
// must be the file name of one of the package URLs, and of no other
// --artifact: a second file of the same name would be checked in place of
// the first, which then goes unchecked.
func hashArtifacts(paths []string, names map[string]bool) (map[string]string, error) {
	out := map[string]string{}
	given := map[string]string{} // file name → the path that gave it
	for _, p := range paths {
		name := filepath.Base(p)
		if !names[name] {
			return nil, usageError("--artifact %s: no PACKAGE-URL ends in %s", p, name)
		}
		if prev, dup := given[name]; dup {
			return nil, usageError("--artifact %s and --artifact %s have the same file name, and each package URL is checked against one file: verify them in separate runs", prev, p)
		}
		given[name] = p
		file, fi, err := localfile.Open(p) // a FIFO or device would block or never end
		if err == nil && fi.IsDir() {
			file.Close()
			err = fmt.Errorf("%s is a directory", p)
		}
		if errors.Is(err, localfile.ErrNotRegular) {
			err = fmt.Errorf("%s is %w", p, err)
		}
		if err != nil {
			return nil, usageError("--artifact: %v", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, file)
		file.Close()
		if err != nil {
			return nil, usageError("--artifact %s: %v", p, err)
		}
		out[name] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

func usageError(format string, args ...any) error {
	return fmt.Errorf("usage: "+format, args...)
}

func problem(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}
