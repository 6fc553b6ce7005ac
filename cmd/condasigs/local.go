package main

// verify --bundle: package files on disk, verified against a sidecar or
// bundle file, with no repodata and no network but the trust root's.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/condasigs/condasigs/internal/memcache"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/policy"
)

// addBundle adds --bundle to verify: the flag, its usage line, help and
// example, and its argument check.
func addBundle(cmd *cobra.Command, f *verifyFlags) {
	cmd.Flags().Var(bundleValue{&f.bundles}, "bundle", "verify package files on disk (PACKAGE-FILE... instead of PACKAGE-URLs) against this file: a CEP 50 sidecar (a JSON array of Sigstore bundles, e.g. from condasigs download-sidecar) or one Sigstore bundle (a JSON object); no repodata is read, and --channel names the channel the packages were published to")
	cmd.Use += "\n  condasigs verify --bundle FILE [flags] PACKAGE-FILE..."
	cmd.Long += `

With --bundle FILE, each PACKAGE-FILE is a package file on disk: its bytes
are hashed, its file name is the attestation's subject, and FILE (a CEP 50
sidecar, e.g. from download-sidecar, or one Sigstore bundle) holds the
attestations. Nothing is fetched but the trusted root (nothing with
--trusted-root or --offline). Give --channel URL, the channel the packages
were published to; without it, --channel-mismatch decides, as for a mirror.`
	cmd.Example += `

  condasigs verify --trusted-root trusted_root.json --identity ... --issuer github \
    --channel https://prefix.dev/sigstore-example \
    --bundle signed-package-2.1.0-hb0f4dca_0.conda.sigs.50d02de1... signed-package-2.1.0-hb0f4dca_0.conda`
	urls := cmd.Args
	files := wantArgs(1, -1, "at least one PACKAGE-FILE with --bundle (a conda package file on disk)", "condasigs verify --bundle signed-package-2.1.0-hb0f4dca_0.conda.sigs signed-package-2.1.0-hb0f4dca_0.conda")
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed("bundle") {
			return files(cmd, args)
		}
		return urls(cmd, args)
	}
}

// bundleValue is --bundle's value: every FILE given, so that a second one
// is refused rather than silently replacing the first.
type bundleValue struct{ files *[]string }

func (b bundleValue) String() string {
	if b.files == nil || len(*b.files) == 0 {
		return ""
	}
	return (*b.files)[len(*b.files)-1]
}

func (b bundleValue) Set(s string) error {
	*b.files = append(*b.files, s)
	return nil
}

func (bundleValue) Type() string { return "string" }

// localPackage is a package file on disk, hashed.
type localPackage struct {
	url      string // file:// URL of its absolute path
	dirURL   string // file:// URL of its directory
	filename string // its base name, the attestation's subject name
	sha256   string
	size     int64
}

// bundleFile is --bundle's file, as a sidecar.
type bundleFile struct {
	url string // file:// URL of its absolute path
	// data is the sidecar: the file's bytes as they are, or a single
	// bundle wrapped in a one-element array.
	data   []byte
	sha256 string // of data
}

// runVerifyBundle is verify --bundle FILE PACKAGE-FILE...: each file's
// bytes are hashed and its base name is the subject, its record is made
// from the file (so no repodata is read), and the sidecar is FILE's,
// served to the fetcher from memory through its sidecar cache (so no
// sidecar is requested). The library composes the rest as for a channel.
func runVerifyBundle(cmd *cobra.Command, f verifyFlags, paths []string) error {
	if err := checkBundleUse(cmd, f, paths); err != nil {
		return err
	}
	if err := checkFlags(cmd, f); err != nil {
		return err
	}
	// --timeout bounds the whole run, reading the package files included:
	// openSession's deadline is derived from this one.
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	cmd.SetContext(ctx)
	bf, err := readBundleFile(f.bundles[0], f.maxSidecarSize)
	if err != nil {
		return err
	}
	locals := make([]localPackage, len(paths))
	urls := make([]string, len(paths))
	for i, p := range paths {
		if locals[i], err = hashPackageFile(ctx, p); err != nil {
			return err
		}
		urls[i] = locals[i].url
		if f.channel != "" {
			continue
		}
		if _, err := conda.NormalizeChannel(locals[i].dirURL); err != nil {
			return usageError("without --channel, the directory of %s is its channel, but %v: give --channel URL, the channel the package was published to", p, err)
		}
	}
	// The sidecar cache holds FILE alone, so FetchSidecar answers from it
	// (hashing it again) without a request.
	sidecars := memcache.New(int64(len(bf.data)))
	if err := sidecars.Put(ctx, bf.sha256, bf.data); err != nil {
		return err
	}
	f.sidecars = sidecars
	s, err := openSession(cmd, f, urls, false)
	if err != nil {
		return err
	}
	defer s.close()
	pkgs := make([]condasigs.Package, len(locals))
	for i, lp := range locals {
		channel := f.channel
		if channel == "" {
			// No channel: the directory holding the file, which no
			// attestation names, so the channel-mismatch rule decides,
			// as for a mirror.
			channel = lp.dirURL
		}
		pkgs[i] = condasigs.Package{URL: lp.url, Channel: channel, ArtifactSHA256: lp.sha256,
			Record: fetch.Record{Filename: lp.filename, SHA256: lp.sha256, Size: lp.size, AttestationsSHA256: bf.sha256}}
	}
	reports, verr := s.verifyPackages(cmd.Context(), pkgs, urls)
	for _, r := range reports {
		// A file on disk has no subdir (CEP 27 does not bind one), and
		// the sidecar came from FILE, not from a URL beside the package.
		r.Subdir = ""
		if r.SidecarURL != "" {
			r.SidecarURL = bf.url
		}
	}
	unchecked := f.channel == "" && (hasCode(reports, policy.CodeNotConfigured) || hasCode(reports, policy.CodeNotChecked))
	if f.channel == "" && !unchecked && hasCode(reports, policy.CodeTargetChannelMismatch) {
		fmt.Fprintln(cmd.ErrOrStderr(), "condasigs: without --channel, the package files' channel is their directory, which no attestation names: give --channel URL, the channel they were published to")
	}
	err = s.finish(cmd, f.format, reports, verr)
	var ee exitError
	if unchecked && (err == nil || errors.As(err, &ee)) {
		// The directory, taken for a channel, is one the --config file
		// does not check: the files were not verified, and a run that
		// verified nothing it was asked to must not pass.
		return usageError("without --channel, the package files' channel is their directory, which the --config file does not check (no entry covers it, or its entry is disabled), so they were not verified: give --channel URL, the channel they were published to")
	}
	return err
}

// hasCode reports whether a report has a reason of code.
func hasCode(reports []*condasigs.Report, code policy.Code) bool {
	for _, r := range reports {
		for _, reason := range r.Reasons {
			if reason.Code == code {
				return true
			}
		}
	}
	return false
}

// checkBundleUse rejects what --bundle cannot be combined with: flags
// that read records, and package URLs where files are wanted.
func checkBundleUse(cmd *cobra.Command, f verifyFlags, paths []string) error {
	switch {
	case len(f.bundles) > 1:
		return usageError("--bundle is given %d times: give one FILE; to verify against several bundles, put them in one JSON array (a sidecar), or verify in separate runs", len(f.bundles))
	case f.bundles[0] == "":
		return usageError("--bundle is empty: give the path of the sidecar or bundle file the package files are verified against")
	}
	for _, name := range []string{"repodata", "artifact", "record-source"} {
		if cmd.Flags().Changed(name) {
			return usageError("--%s cannot be combined with --bundle: --bundle verifies package files on disk, hashing them and reading no repodata; verify PACKAGE-URLs without --bundle to use --%s", name, name)
		}
	}
	for _, p := range paths {
		scheme, _, ok := strings.Cut(p, "://")
		if !ok {
			continue
		}
		if strings.EqualFold(scheme, "file") {
			if u, err := url.Parse(p); err == nil && u.Path != "" {
				return usageError("with --bundle, give package files as paths, not URLs: %s", filepath.FromSlash(u.Path))
			}
		}
		return usageError("with --bundle, give package files on disk, not URLs: %s is a URL; download the package (and its sidecar: condasigs download-sidecar) and give their paths, or verify the URL from its channel without --bundle", conda.Redact(p))
	}
	return nil
}

// carriedName matches the CEP 50 name of a sidecar, <filename>.sigs.<sha256>,
// which condasigs download-sidecar writes.
var carriedName = regexp.MustCompile(`\.sigs\.([0-9a-fA-F]{64})$`)

// readBundleFile reads --bundle's file, at most max bytes: a sidecar (a
// JSON array) is used as it is, a single bundle (a JSON object) is wrapped
// in an array. A file named <filename>.sigs.<sha256> must hash to that name.
func readBundleFile(path string, max int64) (bundleFile, error) {
	const what = "give a CEP 50 sidecar (a JSON array of Sigstore bundles) or one Sigstore bundle (a JSON object)"
	file, fi, err := localfile.Open(path)
	if errors.Is(err, localfile.ErrNotRegular) {
		return bundleFile{}, usageError("--bundle %s is %v: %s", path, err, what)
	}
	if err != nil {
		return bundleFile{}, usageError("--bundle: %v: %s", err, what)
	}
	defer file.Close()
	if fi.IsDir() {
		return bundleFile{}, usageError("--bundle %s is a directory, not a file: %s", path, what)
	}
	limit := max
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a file over the cap
	}
	raw, err := io.ReadAll(io.LimitReader(file, limit))
	if err != nil {
		return bundleFile{}, usageError("--bundle %s: %v", path, err)
	}
	if int64(len(raw)) > max {
		return bundleFile{}, usageError("--bundle %s is larger than %d bytes, the sidecar size cap: if it is a sidecar, raise --max-sidecar-size", path, max)
	}
	sum := sha256.Sum256(raw)
	got := hex.EncodeToString(sum[:])
	if m := carriedName.FindStringSubmatch(filepath.Base(path)); m != nil && !strings.EqualFold(m[1], got) {
		return bundleFile{}, problem("--bundle %s: its bytes hash to %s, not to the SHA-256 its name gives: the file changed after it was downloaded (a truncated or altered copy); download it again (condasigs download-sidecar) and carry it with the package", path, got)
	}
	bf := bundleFile{url: pathURL(path), data: raw, sha256: got}
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case !json.Valid(raw) || len(trimmed) == 0:
		return bundleFile{}, usageError("--bundle %s is not JSON: %s", path, what)
	case trimmed[0] == '[':
		var bundles []json.RawMessage
		if err := json.Unmarshal(raw, &bundles); err != nil || len(bundles) == 0 {
			return bundleFile{}, usageError("--bundle %s holds an empty array, no bundles: %s", path, what)
		}
	case trimmed[0] == '{':
		var b struct {
			MediaType string `json:"mediaType"`
		}
		_ = json.Unmarshal(raw, &b) // valid JSON: a field of another type leaves it empty
		if !strings.HasPrefix(b.MediaType, "application/vnd.dev.sigstore.bundle") {
			return bundleFile{}, usageError("--bundle %s is a JSON object but not a Sigstore bundle (its mediaType is %q, not application/vnd.dev.sigstore.bundle...): %s", path, textsafe.Clip(b.MediaType), what)
		}
		bf.data = append(append([]byte{'['}, raw...), ']')
		if int64(len(bf.data)) > max {
			return bundleFile{}, usageError("--bundle %s, a bundle made a sidecar, is larger than %d bytes, the sidecar size cap: raise --max-sidecar-size", path, max)
		}
		sum = sha256.Sum256(bf.data)
		bf.sha256 = hex.EncodeToString(sum[:])
	default:
		return bundleFile{}, usageError("--bundle %s is JSON but neither an array nor an object: %s", path, what)
	}
	return bf, nil
}

// hashPackageFile hashes a package file. Its base name must be a conda
// package file name: it is the attestation's subject name.
func hashPackageFile(ctx context.Context, path string) (localPackage, error) {
	name := filepath.Base(path)
	if _, err := conda.ParseFilename(name); err != nil {
		return localPackage{}, usageError("%v: with --bundle, each PACKAGE-FILE is a package file under the name it was published with, which attestations name", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return localPackage{}, usageError("%s: %v", path, err)
	}
	if filepath.Dir(filepath.Dir(abs)) == filepath.Dir(abs) {
		// A package URL has the form <channel>/<subdir>/<filename>.
		return localPackage{}, usageError("%s is in the root directory: move it into a directory", path)
	}
	file, fi, err := localfile.Open(path)
	if errors.Is(err, localfile.ErrNotRegular) {
		return localPackage{}, usageError("%s is %v: give the path of a package file", path, err)
	}
	if err != nil {
		return localPackage{}, usageError("%v: give the path of a package file", err)
	}
	defer file.Close()
	if fi.IsDir() {
		return localPackage{}, usageError("%s is a directory: give the path of a package file", path)
	}
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, file})
	if errors.Is(err, context.DeadlineExceeded) {
		return localPackage{}, problem("reading %s: %v: it took longer than --timeout; raise --timeout if the file is that large", path, err)
	}
	if err != nil {
		return localPackage{}, problem("reading %s: %v", path, err)
	}
	return localPackage{url: pathURL(abs), dirURL: pathURL(filepath.Dir(abs)), filename: name,
		sha256: hex.EncodeToString(h.Sum(nil)), size: n}, nil
}

// ctxReader reads r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
