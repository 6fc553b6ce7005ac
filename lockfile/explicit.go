package lockfile

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/condasigs/condasigs/internal/textsafe"
)

// parseExplicit reads a conda explicit file, as conda does
// (conda.cli.common.specs_from_url, then conda.misc's
// _match_specs_from_explicit):
//
//   - lines end with "\n", "\r\n" or "\r" (Python's universal newlines);
//   - each line is stripped of surrounding white space; blank lines and
//     lines starting with # are skipped wherever they are;
//   - a line @EXPLICIT starts the package URLs; a later one is ignored;
//   - each further line is <url>[#<hash>]: the URL of a .conda or .tar.bz2
//     file, or a local path, which conda turns into a file:// URL;
//   - the fragment is an MD5 when it has 32 hexadecimal characters and a
//     SHA-256 when it has 64, optionally written sha256:<hex>; a line
//     without one is allowed.
//
// Unlike conda, it refuses what conda would expand from its environment
// (relative paths, ~, $VARIABLES), and accepts uppercase hexadecimal (as
// mamba does), normalized to lowercase.
//
// conda installs every package line, whatever platform its URL names. The
// comment "# platform: <subdir>" that conda list --explicit and conda-lock
// write says which platform the file is for: every package gets that
// platform (lockfile.Package.Platforms), and a URL in another subdir than
// it or noarch is refused. A file without it says nothing of platforms.
// Two such comments that disagree are refused.
func parseExplicit(name string, data []byte) (*File, error) {
	b := newLockBuilder(name, FormatExplicit)
	started := false
	platform, platformLine := "", 0
	for lineNo := 1; len(data) > 0; lineNo++ {
		var raw []byte
		raw, data = nextLine(data)
		line := string(bytes.TrimSpace(raw))
		switch {
		case line == "":
			continue
		case line[0] == '#':
			p, ok, err := explicitPlatform(line)
			switch {
			case err != nil:
				return nil, &Error{File: name, Line: lineNo, Err: err}
			case !ok:
			case platformLine != 0 && p != platform:
				return nil, lockErr(name, lineNo, "# platform: %s, but line %d says # platform: %s: an explicit file is for one platform", textsafe.Quote(p), platformLine, textsafe.Quote(platform))
			default:
				platform, platformLine = p, lineNo
			}
			continue
		case line == explicitMarker:
			started = true
			continue
		case !started:
			return nil, lockErr(name, lineNo,
				"%s comes before the @EXPLICIT line: an explicit file has only # comments before @EXPLICIT and one package URL per line after it; move the line after @EXPLICIT or make it a comment",
				shortText(line))
		}
		p, err := parseExplicitLine(line)
		if err != nil {
			return nil, &Error{File: name, Line: lineNo, Err: err}
		}
		p.Line = lineNo
		if err := b.add(p, lineNo, lineNo); err != nil {
			return nil, err
		}
	}
	if !started {
		return nil, lockErr(name, 0, "no @EXPLICIT line: %w", errUnsupported)
	}
	if platform != "" {
		for i := range b.lf.Packages {
			p := &b.lf.Packages[i]
			if err := checkSubdir(p.URL, platform); err != nil {
				return nil, &Error{File: name, Line: p.Line, Err: err}
			}
			p.Platforms = []string{platform}
		}
	}
	return b.lf, nil
}

// platformComment matches conda's "# platform: <subdir>" comment.
var platformComment = regexp.MustCompile(`^#\s*platform\s*:\s*(.*?)\s*$`)

// subdirName is what a conda subdir name is made of.
var subdirName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// explicitPlatform returns the platform of a "# platform: <subdir>"
// comment line; ok is false for any other comment.
func explicitPlatform(line string) (platform string, ok bool, err error) {
	m := platformComment.FindStringSubmatch(line)
	if m == nil {
		return "", false, nil
	}
	if !subdirName.MatchString(m[1]) {
		return "", false, fmt.Errorf("# platform: %s is not a conda subdir name (such as linux-64 or osx-arm64): the file is damaged or was edited", textsafe.Quote(m[1]))
	}
	return m[1], true, nil
}

// parseExplicitLine reads <url>[#<hash>].
func parseExplicitLine(line string) (Package, error) {
	var p Package
	if !utf8.ValidString(line) {
		return p, fmt.Errorf("the line is not valid UTF-8 text: the file is damaged or in another encoding")
	}
	if !isLocalPath(line) && strings.ContainsAny(line, " \t\r\v\f") {
		return p, fmt.Errorf("%s has white space inside: a line after @EXPLICIT is one package URL, with nothing after it but #<md5> or #<sha256>", shortText(line))
	}
	location, fragment, hasFragment := line, "", false
	if i := strings.LastIndexByte(line, '#'); i > strings.LastIndexAny(line, `/\`) {
		location, fragment, hasFragment = line[:i], line[i+1:], true
	}
	if strings.Contains(location, "#") {
		return p, fmt.Errorf("%s has a # before its file name: a # may only introduce the hash at the end of the line", shortText(line))
	}
	if !isArchiveName(location[strings.LastIndexAny(location, `/\`)+1:]) {
		return p, fmt.Errorf("%s is not the URL of a conda package: after @EXPLICIT each line is the URL of a .conda or .tar.bz2 file (nothing after it, no query string), optionally followed by #<md5> or #<sha256>", shortText(location))
	}
	if hasFragment {
		if err := explicitHash(fragment, &p); err != nil {
			return p, err
		}
	}
	if isLocalPath(location) {
		u, ok := localPathURL(location)
		if !ok {
			return p, fmt.Errorf("%s is a local path whose meaning depends on where conda runs (a relative path, ~ or a $VARIABLE): write an absolute path or a file:// URL", textsafe.Quote(location))
		}
		location = u
	}
	if _, err := checkPackageURL(location); err != nil {
		return p, err
	}
	p.URL = location
	return p, nil
}

// explicitHash reads the fragment of an explicit URL: conda takes 32
// hexadecimal characters for an MD5, and 64 (optionally after "sha256:")
// for a SHA-256.
func explicitHash(fragment string, p *Package) error {
	hex, prefixed := strings.CutPrefix(fragment, "sha256:")
	switch {
	case len(hex) == sha256Hex:
		h, err := normalizeHash(hex, sha256Hex, "sha256")
		p.SHA256 = h
		return err
	case len(hex) == md5Hex && !prefixed:
		h, err := normalizeHash(hex, md5Hex, "md5")
		p.MD5 = h
		return err
	}
	return fmt.Errorf("the hash %s after # has %d characters: conda reads #<32 hexadecimal characters> as an MD5 and #<64> (or #sha256:<64>) as a SHA-256", textsafe.Quote(fragment), len(hex))
}

// shortText quotes a line for a message, redacted when it holds a URL.
func shortText(s string) string {
	if strings.Contains(s, "://") {
		return shortURL(s)
	}
	return textsafe.Quote(s)
}
