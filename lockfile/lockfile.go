package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/condasigs/condasigs/internal/textsafe"
)

// Format names a lock-file format.
type Format string

// The lock-file formats [Read] reads.
const (
	FormatExplicit  Format = "explicit"   // conda list --explicit
	FormatPixiLock  Format = "pixi.lock"  // pixi.lock, versions 4 to 6
	FormatCondaLock Format = "conda-lock" // conda-lock.yml, version 1
)

// Package is one conda package named by a lock file.
type Package struct {
	// URL is the package URL as written, query string and /t/<token>/
	// segment included: never print it, print Redact(URL). A package a
	// lock file names by an absolute local path has the file:// URL of
	// that path, as conda makes it.
	URL string
	// SHA256 is the package file's SHA-256, lowercase hex; "" when the file
	// gives none.
	SHA256 string
	// MD5 is the package file's MD5, lowercase hex; "" when the file gives
	// none.
	MD5 string
	// Platforms are the platforms (subdirs such as "linux-64") the lock
	// file installs the package on, sorted: a conda-lock.yml entry's
	// platform:, the platforms under which a pixi.lock's environments list
	// the package, an explicit file's "# platform:" line. Not the subdir of
	// the URL: a noarch package is installed on platforms, and what an
	// installer installs is what the file lists for the platform, whatever
	// the URL says (the parser refuses a URL whose subdir is neither such a
	// platform nor noarch). Nil when the file does not say (an explicit
	// file without a "# platform:" line, a pixi.lock package no environment
	// lists): take it to be installed on every platform.
	Platforms []string
	// Format is the format of the lock file the entry comes from; empty
	// for an entry made by other means. It tells which hash the format's
	// installer checks: conda-lock install checks the md5 only.
	Format Format
	// Line is the 1-based line of the entry in the file.
	Line int
}

// Skipped is an entry a lock file lists that is not a channel's conda
// package (a PyPI package, a source package built from a path), so it has
// no attestations to check.
type Skipped struct {
	// What names the entry, e.g. "PyPI package requests 2.32.3"; URLs in it
	// are redacted.
	What string `json:"what"`
	// Line is the 1-based line of the entry in the file.
	Line int `json:"line"`
	// Reason says why the entry has no attestations to check.
	Reason string `json:"reason"`
}

// File is a parsed lock file.
type File struct {
	// Name is the file name given to the parser, for messages.
	Name   string
	Format Format
	// Packages are the conda packages, in file order, each URL once.
	Packages []Package
	// Skipped are the entries that are not channel packages, in file
	// order, each once.
	Skipped []Skipped
}

// Error is a lock file the parser refuses, with where.
type Error struct {
	// File is the name given to Parse, or the path given to
	// Read.
	File string
	// Line is the 1-based line of the problem; 0 when it concerns the file
	// as a whole.
	Line int
	// Err says what is wrong, and how to fix it. URLs in it are redacted.
	Err error
}

// Error formats e as "FILE:LINE: MESSAGE", leaving out what is unknown.
func (e *Error) Error() string {
	msg := "invalid lock file"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	case e.File != "":
		return e.File + ": " + msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, msg)
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// maxSize caps Read: 32 MiB, several times the largest
// lock files in use.
const maxSize = 32 << 20

// Read reads and parses the lock file at path, in any of the supported
// formats:
//
//   - a conda explicit file, the output of conda list --explicit [--md5 |
//     --sha256]: # comments, a line @EXPLICIT, then one package URL per
//     line, each with an optional #<md5> or #<sha256> fragment;
//   - a pixi.lock of version 4, 5 or 6;
//   - a conda-lock.yml of version 1 (the unified format).
//
// The format is detected from the content, never from the file's name: a
// file is an explicit file when its first line that is neither blank nor
// a # comment is @EXPLICIT, and otherwise a YAML mapping,
// with package: for conda-lock, with packages: and environments: or
// version: for pixi.lock.
//
// Every package URL must be an http, https or file URL of the form
// <channel>/<subdir>/<file>.conda or .tar.bz2 ([SplitPackageURL] splits
// it), every hash hexadecimal of its length. A URL listed twice is kept
// once, at its first line, with the hashes of both entries; two entries
// that give different hashes for one URL are refused. PyPI packages and
// source packages go to Skipped.
//
// A pixi.lock's relative package paths are resolved against the directory
// of path. Read reads at most 32 MiB, and refuses larger files, devices,
// and FIFOs that no writer opens.
//
// Every error is a *[Error]: one that names the line of the offending
// entry, or one that wraps an operating-system error, which matches it
// with errors.Is (fs.ErrNotExist, ...). Work and memory are linear in the
// size of the file: YAML aliases are never expanded more than once, and YAML documents denser than lock files
// are (more than about 4,000,000 values) are refused before they are
// parsed, since the YAML library takes some 250 bytes for each.
func Read(path string) (*File, error) {
	data, err := localfile.ReadFile(path, maxSize)
	switch {
	case errors.Is(err, localfile.ErrTooLarge):
		return nil, &Error{File: path, Err: fmt.Errorf(
			"the file is larger than %d bytes (32 MiB), the most this tool reads from a lock file: check the path, or split the environments into several lock files", maxSize)}
	case err != nil:
		return nil, &Error{File: path, Err: withoutPath(err)}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		dir = ""
	}
	return parse(path, data, dir)
}

// withoutPath returns the cause of a *fs.PathError, whose path Error
// already names.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parse parses data, the content of the lock file name in directory dir
// (absolute), against which a
// pixi.lock's relative package paths are resolved ("" when not known:
// such a path is then refused).
func parse(name string, data []byte, dir string) (*File, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if explicitFirst(data) {
		return parseExplicit(name, data)
	}
	y := newYAMLFile(name)
	y.dir = dir
	root, err := y.parse(data)
	if err == nil {
		var lf *File
		lf, err = y.dispatch(root)
		if err == nil {
			return lf, nil
		}
	}
	if errors.Is(err, errUnsupported) && hasExplicitMarker(data) {
		// An @EXPLICIT line after other lines: say which lines are in the way.
		return parseExplicit(name, data)
	}
	return nil, err
}

var utf8BOM = []byte("\xef\xbb\xbf")

// errUnsupported is the error of a file in none of the supported formats.
var errUnsupported = errors.New("this tool reads conda explicit files (the output of conda list --explicit, with an @EXPLICIT line before the package URLs), pixi.lock files (versions 4, 5 and 6) and conda-lock.yml files (version 1)")

// lockErr returns a *Error at line.
func lockErr(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// displayLocation returns a package location (a URL or a local path) fit
// for a message: URLs redacted, long ones cut.
func displayLocation(s string) string {
	if isLocalPath(s) {
		return textsafe.Clip(s)
	}
	return textsafe.Clip(conda.Redact(s))
}

// shortURL returns a URL redacted and quoted for a message.
func shortURL(s string) string { return textsafe.Quote(conda.Redact(s)) }

// Hash lengths, in hexadecimal characters.
const (
	sha256Hex = 64
	md5Hex    = 32
)

// normalizeHash returns s in lowercase when it is exactly n hexadecimal
// characters; what names the hash in the error.
func normalizeHash(s string, n int, what string) (string, error) {
	if len(s) != n {
		article := map[string]string{"sha256": "a SHA-256", "md5": "an MD5"}[what]
		return "", fmt.Errorf("%s %s has %d characters: %s is %d hexadecimal characters", what, textsafe.Quote(s), len(s), article, n)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return "", fmt.Errorf("%s %s has a character other than hexadecimal at offset %d", what, textsafe.Quote(s), i)
		}
	}
	return strings.ToLower(s), nil
}

// isArchiveName reports whether name is the file name of a conda package:
// something ending in .conda or .tar.bz2.
func isArchiveName(name string) bool {
	for _, ext := range []string{".conda", ".tar.bz2"} {
		if strings.HasSuffix(name, ext) && len(name) > len(ext) {
			return true
		}
	}
	return false
}

// checkPackageURL checks that raw is a package URL a verifier can use and
// returns its parts.
func checkPackageURL(raw string) (conda.PackageLocation, error) {
	loc, err := conda.SplitPackageURL(raw)
	if err != nil {
		// conda's errors begin with the redacted URL, said here first.
		msg := strings.TrimPrefix(err.Error(), conda.Redact(raw)+": ")
		return loc, fmt.Errorf("%s is not a package URL: %s", shortURL(raw), msg)
	}
	if !isArchiveName(loc.Filename) {
		return loc, fmt.Errorf("%s does not name a conda package: the file name must end in .conda or .tar.bz2", shortURL(raw))
	}
	u, _ := url.Parse(raw) // parsed by SplitPackageURL already
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return loc, fmt.Errorf("%s has a %q path segment: write the URL of the package without it", shortURL(raw), seg)
		}
	}
	return loc, nil
}

// uriScheme matches the scheme of an absolute URI.
var uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// windowsDrive matches an absolute Windows path, C:\ or C:/.
var windowsDrive = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

// isLocalPath reports whether s is a path rather than a URL, as conda and
// rattler tell them apart: no scheme, or a one-letter "scheme" that is a
// Windows drive.
func isLocalPath(s string) bool {
	m := uriScheme.FindString(s)
	return m == "" || len(m) == 2
}

// localPathURL returns the file:// URL of an absolute local path, as conda
// makes it (conda.common.url.path_to_url); false for a path whose meaning
// depends on where and by whom it is read: relative, ~, $VARIABLES.
func localPathURL(p string) (string, bool) {
	if strings.HasPrefix(p, "~") || strings.ContainsAny(p, "$%") {
		return "", false
	}
	return absolutePathURL(p)
}

// absolutePathURL is the file:// URL of p taken as written, when p is an
// absolute path: POSIX, or with a Windows drive; ok is false otherwise.
func absolutePathURL(p string) (string, bool) {
	switch {
	case windowsDrive.MatchString(p):
		p = "/" + strings.ReplaceAll(p, `\`, "/")
	case strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//"):
	default:
		return "", false
	}
	return (&url.URL{Scheme: "file", Path: path.Clean(p)}).String(), true
}

// explicitMarker is the line that starts the package URLs of an explicit
// file.
const explicitMarker = "@EXPLICIT"

// explicitFirst reports whether the first line of data that is neither
// blank nor a # comment is @EXPLICIT.
func explicitFirst(data []byte) bool {
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		s := bytes.TrimSpace(line)
		if len(s) == 0 || s[0] == '#' {
			continue
		}
		return string(s) == explicitMarker
	}
	return false
}

// hasExplicitMarker reports whether a line of data is @EXPLICIT.
func hasExplicitMarker(data []byte) bool {
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		if string(bytes.TrimSpace(line)) == explicitMarker {
			return true
		}
	}
	return false
}

// nextLine splits data after its first line, without the line break: a
// "\n", a "\r\n" or a lone "\r", as Python (which conda is written in) and
// YAML break lines.
func nextLine(data []byte) (line, rest []byte) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0:
		return data, nil
	case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
		return data[:i], data[i+2:]
	}
	return data[:i], data[i+1:]
}

// lockBuilder collects the packages and skipped entries of a lock file.
type lockBuilder struct {
	lf      *File
	byURL   map[string]int  // package URL -> index in lf.Packages
	skipped map[string]bool // What and Reason of the skipped entries
}

func newLockBuilder(name string, format Format) *lockBuilder {
	return &lockBuilder{
		lf:      &File{Name: name, Format: format, Packages: []Package{}, Skipped: []Skipped{}},
		byURL:   map[string]int{},
		skipped: map[string]bool{},
	}
}

// add records p, or merges it into the entry of the same URL; sha256Line
// and md5Line locate p's hashes for a contradiction.
func (b *lockBuilder) add(p Package, sha256Line, md5Line int) error {
	p.Format = b.lf.Format
	i, dup := b.byURL[p.URL]
	if !dup {
		b.byURL[p.URL] = len(b.lf.Packages)
		b.lf.Packages = append(b.lf.Packages, p)
		return nil
	}
	prev := &b.lf.Packages[i]
	// Each listing names the same hashes: an installer that reads one of
	// them checks only what that one gives.
	if (prev.SHA256 == "") != (p.SHA256 == "") || (prev.MD5 == "") != (p.MD5 == "") {
		return lockErr(b.lf.Name, p.Line,
			"%s is listed at line %d with %s and here with %s: an installer may check either; list it once, or with the same hashes each time",
			shortURL(p.URL), prev.Line, hashKinds(*prev), hashKinds(p))
	}
	prev.Platforms = mergePlatforms(prev.Platforms, p.Platforms)
	for _, h := range []struct {
		name       string
		prev, this *string
		line       int
	}{{"sha256", &prev.SHA256, &p.SHA256, sha256Line}, {"md5", &prev.MD5, &p.MD5, md5Line}} {
		switch {
		case *h.this == "":
		case *h.prev == "":
			*h.prev = *h.this
		case *h.prev != *h.this:
			return lockErr(b.lf.Name, h.line,
				"%s is listed at line %d with %s %s and here with %s %s: a lock file must not contradict itself; regenerate it",
				shortURL(p.URL), prev.Line, h.name, *h.prev, h.name, *h.this)
		}
	}
	return nil
}

// looseURL is u in a form where spellings an URL parser takes as one URL
// meet: scheme, host and path lowercased, a default port dropped, the path
// unescaped and its dot segments removed. It joins more than any parser
// does (the path's case), so that no two spellings of one URL stay apart.
func looseURL(u string) string {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return strings.ToLower(u)
	}
	host, port := strings.ToLower(pu.Hostname()), pu.Port()
	scheme := strings.ToLower(pu.Scheme)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	p := path.Clean("/" + pu.Path) // Path is unescaped
	return scheme + "://" + host + strings.ToLower(p) + "?" + pu.RawQuery
}

// hashKinds names the hashes p gives, for a message.
func hashKinds(p Package) string {
	switch {
	case p.SHA256 != "" && p.MD5 != "":
		return "sha256 and md5"
	case p.SHA256 != "":
		return "sha256 only"
	case p.MD5 != "":
		return "md5 only"
	}
	return "no hash"
}

// mergePlatforms is the sorted union of a and b; nil (every platform)
// when either is nil.
func mergePlatforms(a, b []string) []string {
	if a == nil || b == nil {
		return nil
	}
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// checkSubdir refuses the package URL raw, of a package the lock file
// installs on platform, when its subdir is another: a package for a
// platform comes from that platform's subdir or from noarch.
func checkSubdir(raw, platform string) error {
	loc, err := conda.SplitPackageURL(raw)
	if err != nil {
		return err
	}
	subdir := loc.Subdir
	if subdir == platform || subdir == "noarch" {
		return nil
	}
	return fmt.Errorf("the URL %s is in subdir %s, but the lock file installs it on platform %s: a package for a platform comes from that platform's subdir or from noarch; the file is damaged or was edited",
		shortURL(raw), textsafe.Quote(subdir), textsafe.Quote(platform))
}

// skip records an entry that is not a channel's package, once.
func (b *lockBuilder) skip(what string, line int, reason string) {
	key := what + "\x00" + reason
	if b.skipped[key] {
		return
	}
	b.skipped[key] = true
	b.lf.Skipped = append(b.lf.Skipped, Skipped{What: what, Line: line, Reason: reason})
}
