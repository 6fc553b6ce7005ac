package conda

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/condasigs/condasigs/internal/textsafe"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// ValidateDigest checks that s is exactly 64 lowercase hexadecimal
// characters, the only form CEP 50 allows for attestations_sha256. It is
// checked before any URL is built from s.
func ValidateDigest(s string) error {
	if len(s) != 64 {
		return &invalidError{kind: errInvalidDigest, msg: fmt.Sprintf("attestations_sha256 has %d characters, want 64 lowercase hex", len(s))}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return &invalidError{kind: errInvalidDigest, msg: fmt.Sprintf("attestations_sha256 has a character other than lowercase hex at offset %d", i)}
		}
	}
	return nil
}

// SidecarURL returns the content-addressed sidecar URL of CEP 50,
// <package-url>.sigs.<digest>, keeping the package URL's query string (it may
// carry a token). digest must pass [ValidateDigest].
func SidecarURL(packageURL, digest string) (string, error) {
	if err := ValidateDigest(digest); err != nil {
		return "", err
	}
	u, err := parsePackageURL(packageURL)
	if err != nil {
		return "", err
	}
	suffix := ".sigs." + digest
	u.Path += suffix
	if u.RawPath != "" {
		u.RawPath += suffix
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// PackageLocation is a package URL split into the parts CEP 50 names.
type PackageLocation struct {
	// Channel is the channel URL, without a trailing slash, with any user
	// information, conda /t/<token> segment and query string of the package
	// URL removed, so that it can be printed.
	Channel  string
	Subdir   string
	Filename string
	// RepodataURL is <channel>/<subdir>/repodata.json, with the package
	// URL's credentials and query string kept, for fetching. Never print it.
	RepodataURL string
}

// SplitPackageURL splits <channel>/<subdir>/<filename> into its parts. A
// URL with an escaped "/" (%2F) in its path is refused: servers disagree on
// whether it separates segments, and so on which channel it names.
func SplitPackageURL(packageURL string) (PackageLocation, error) {
	u, err := parsePackageURL(packageURL)
	if err != nil {
		return PackageLocation{}, err
	}
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return PackageLocation{}, &invalidError{kind: errInvalidURL, url: Redact(packageURL), msg: `the package URL's path holds an escaped "/" (%2F)`}
	}
	// Dot segments are refused: a server resolves them before it reads a
	// /t/<token> segment, and the channel would be another one than the
	// one read here (lock files refuse them too).
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return PackageLocation{}, &invalidError{kind: errInvalidURL, url: Redact(packageURL), msg: fmt.Sprintf("the package URL has a %q path segment: write the URL of the package without it", seg)}
		}
	}
	dir, filename := path.Split(u.Path)
	channelPath, subdir := path.Split(strings.TrimSuffix(dir, "/"))
	if filename == "" || subdir == "" {
		return PackageLocation{}, &invalidError{kind: errInvalidURL, url: Redact(packageURL), msg: "a package URL has the form <channel>/<subdir>/<filename>"}
	}
	// The repodata URL keeps the package URL's escaping exactly, as the
	// sidecar URL does: a server may tell an escaped character apart.
	repodata := *u
	esc := u.EscapedPath()
	repodata.RawPath = esc[:strings.LastIndexByte(esc, '/')+1] + "repodata.json"
	repodata.Path = dir + "repodata.json"
	repodata.Fragment, repodata.RawFragment = "", ""

	channel := *u
	channel.User = nil
	channel.RawQuery, channel.ForceQuery = "", false
	channel.Fragment, channel.RawFragment = "", ""
	channelPath, err = stripToken(channelPath)
	if err != nil {
		return PackageLocation{}, &invalidError{kind: errInvalidURL, url: Redact(packageURL), msg: err.Error()}
	}
	channel.Path = strings.TrimSuffix(channelPath, "/")
	channel.RawPath = ""
	return PackageLocation{
		Channel:     channel.String(),
		Subdir:      subdir,
		Filename:    filename,
		RepodataURL: repodata.String(),
	}, nil
}

func parsePackageURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, &invalidError{kind: errInvalidURL, url: Redact(s), msg: "cannot parse the package URL"}
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, &invalidError{kind: errInvalidURL, url: Redact(s), msg: "the package URL has no host"}
		}
	case "file":
	default:
		return nil, &invalidError{kind: errInvalidURL, url: Redact(s), msg: fmt.Sprintf("unsupported URL scheme %q: use http, https or file", u.Scheme)}
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return nil, &invalidError{kind: errInvalidURL, url: Redact(s), msg: "the package URL does not end in a file name"}
	}
	return u, nil
}

// Redact returns rawURL fit for printing: without user information, with the
// query string replaced by "REDACTED" and the token of a conda /t/<token>/
// path segment replaced by "REDACTED".
func Redact(rawURL string) string {
	// Redact tokens in the raw text first: a token may hold an escaped "/"
	// (%2F) that a decoded path would split in two.
	head, tail := rawURL, ""
	if i := strings.IndexAny(rawURL, "?#"); i >= 0 {
		head, tail = rawURL[:i], rawURL[i:]
	}
	u, err := url.Parse(redactTokenSegment(head) + tail)
	if err != nil {
		return "<unparseable URL>"
	}
	if u.Opaque != "" { // "https:user:pw@host/...": no structure to keep
		return u.Scheme + ":REDACTED"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// isT reports whether a raw path segment is "t", escaped ("%74") or not.
func isT(seg string) bool {
	u, err := url.PathUnescape(seg)
	return err == nil && (u == "t" || u == "T")
}

// redactTokenSegment redacts the segment after every "t" segment of p.
// The markers are found in p as given, before any segment is replaced:
// in "/T/t/<token>", redacting the "t" after "T" must not hide that it
// marks the token.
func redactTokenSegment(p string) string {
	segs := strings.Split(p, "/")
	out := slices.Clone(segs)
	for i := 0; i+1 < len(segs); i++ {
		// Also at the end of the path: a channel URL may end with its token.
		if isT(segs[i]) && segs[i+1] != "" {
			out[i+1] = "REDACTED"
		}
	}
	return strings.Join(out, "/")
}

// NormalizeChannel returns the canonical form of a channel URL: the one
// string that every spelling reaching the same channel maps to, used to
// choose a policy entry and to compare a targetChannel. It refuses, rather
// than guesses at, any spelling whose destination clients disagree on.
//
// The canonical form is scheme://host[:port]/path, where
//
//   - the scheme is in lower case, and http on its default port is https
//     (plain HTTP to a host is commonly redirected to its HTTPS channel);
//   - the host is mapped to ASCII as Go's HTTP client maps it (IDNA, the
//     UTS #46 Lookup profile: width, compatibility forms and case), then
//     lowered, without the trailing dot of an absolute name. A host whose
//     mapping fails, or differs between transitional and non-transitional
//     processing (ß, ς, joiners), is refused, as is any character other
//     than letters, digits, "-" and "_" in a label;
//   - a host that ends in a number is an IPv4 address as the WHATWG URL
//     standard and inet_aton read it ("127.1", "0x7f.0.0.1",
//     "2130706433"), written as a dotted quad, or refused if invalid;
//   - an IPv6 literal is in RFC 5952 form; an IPv4-mapped one
//     ([::ffff:a.b.c.d]) is the IPv4 address; one with a zone is refused,
//     and so are the unspecified addresses 0.0.0.0 and [::], which reach
//     the local host;
//   - the port is a decimal number without leading zeros, omitted when it
//     is the scheme's default (80, 443, 21) or empty ("host:"); port 0 and
//     ports above 65535 are refused;
//   - user information, the query and the fragment are removed;
//   - the path is percent-decoded, cleaned of empty, "." and ".."
//     segments, folded to lower case (channel servers such as
//     anaconda.org serve /Conda-Forge/ as /conda-forge/), stripped of
//     conda /t/<token> prefixes and of trailing slashes, and re-escaped.
//     A path holding an escaped "/", a backslash, a control character,
//     ";", "%", "?" or "#" (escaped), or, except in file URLs, any
//     non-ASCII character, is refused;
//   - a file URL's host "localhost" is the empty host.
//
// A URL with a backslash before its query, or with control characters or
// spaces around it, is refused: WHATWG parsers and Go's read it apart.
//
// NormalizeChannel is idempotent. Its errors never hold credentials.
func NormalizeChannel(channel string) (string, error) {
	invalid := func(why string) error {
		return fmt.Errorf("%q is not a channel URL: %s", Redact(channel), why)
	}
	// WHATWG parsers strip C0 controls and spaces around a URL, and drop
	// tabs and newlines in it; they read "\" as "/". Go does none of
	// that, so no canonical form serves both readings.
	s := channel
	head, _, _ := strings.Cut(s, "?")
	head, _, _ = strings.Cut(head, "#")
	if strings.Trim(s, c0AndSpace) != s || strings.ContainsAny(s, "\t\n\r") || strings.Contains(head, "\\") {
		return "", invalid("it holds a backslash, or a control character or space at an end")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", invalid("not an absolute URL")
	}
	if u.Opaque != "" {
		return "", invalid("no // after the scheme")
	}
	scheme := strings.ToLower(u.Scheme)
	host, err := canonicalHost(scheme, u)
	if err != nil {
		return "", invalid(err.Error())
	}
	if host == "" && scheme != "file" {
		return "", invalid("no host")
	}
	port, err := canonicalPort(scheme, u.Port())
	if err != nil {
		return "", invalid(err.Error())
	}
	if scheme == "http" && port == "" {
		scheme = "https"
	}
	p, err := canonicalPath(scheme, u)
	if err != nil {
		return "", invalid(err.Error())
	}
	if scheme == "file" && p == "" {
		return "", invalid("a file URL needs a path")
	}
	if port != "" {
		host += ":" + port
	}
	out := url.URL{Scheme: scheme, Host: host, Path: p}
	return out.String(), nil
}

// c0AndSpace is what WHATWG URL parsers strip from both ends of a URL, and
// Go's does not.
const c0AndSpace = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "

// defaultPorts are the ports a scheme's clients connect to without one.
var defaultPorts = map[string]uint64{"http": 80, "https": 443, "ftp": 21}

// canonicalPort returns port (digits only, as url.Parse checked) without
// leading zeros, or "" for the scheme's default port.
func canonicalPort(scheme, port string) (string, error) {
	if port == "" { // none, or "host:" with an empty port
		return "", nil
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("port %q is not a port number from 1 to 65535", textsafe.Clip(port))
	}
	if d, ok := defaultPorts[scheme]; ok && n == d {
		return "", nil
	}
	return strconv.FormatUint(n, 10), nil
}

// idnaTransitional is the Lookup profile with transitional processing,
// which maps the deviation characters (ß, ς, ZWJ, ZWNJ) as IDNA 2003 did.
// Clients differ there, so a host whose two mappings differ is refused.
var idnaTransitional = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(true))

// errUnspecified refuses 0.0.0.0 and [::]: clients connect to them, and
// reach the local host, which has other names.
var errUnspecified = errors.New("the unspecified address (0.0.0.0, ::) reaches the local host: write 127.0.0.1 or [::1]")

// canonicalHost returns the canonical host of u, without port and with
// brackets around an IPv6 address.
func canonicalHost(scheme string, u *url.URL) (string, error) {
	h := u.Hostname() // percent-escapes decoded, brackets removed
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(h)
		if err != nil {
			return "", fmt.Errorf("invalid IP address literal %q", textsafe.Clip(h))
		}
		if a.Zone() != "" {
			return "", errors.New("an IPv6 address with a zone names no one host")
		}
		a = a.Unmap()
		if a.IsUnspecified() {
			return "", errUnspecified
		}
		for _, pfx := range embedsIPv4 {
			if a.Is6() && pfx.Contains(a) && !a.IsLoopback() {
				return "", fmt.Errorf("the IPv6 address %s carries an IPv4 address (NAT64, SIIT, 6to4 or IPv4-compatible): write the IPv4 address", a)
			}
		}
		if a.Is4() {
			return a.String(), nil
		}
		return "[" + a.String() + "]", nil
	}
	if h == "" {
		return "", nil
	}
	if !isASCII(h) {
		// As net/http maps a host before it dials and sends it.
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", fmt.Errorf("the host does not map to ASCII: %v", err)
		}
		if tr, err := idnaTransitional.ToASCII(h); err != nil || tr != a {
			return "", errors.New("the host maps to different ASCII names under transitional (IDNA 2003) and non-transitional (IDNA 2008) processing")
		}
		h = a
	}
	h = strings.ToLower(h)
	h = strings.TrimSuffix(h, ".") // "example.org." is "example.org"
	if h == "" {
		return "", nil
	}
	if endsInNumber(h) {
		a, ok := parseIPv4(h)
		if !ok {
			return "", fmt.Errorf("host %q ends in a number but is not an IPv4 address", textsafe.Clip(h))
		}
		if a.IsUnspecified() {
			return "", errUnspecified
		}
		return a.String(), nil
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return "", fmt.Errorf("host %q has an empty label", textsafe.Clip(h))
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return "", fmt.Errorf("host %q has a character other than letters, digits, \"-\" and \"_\"", textsafe.Clip(h))
			}
		}
	}
	if scheme == "file" && h == "localhost" {
		return "", nil
	}
	return h, nil
}

// endsInNumber is the WHATWG URL standard's test for a host that must be
// parsed as an IPv4 address: its last label is a number.
func endsInNumber(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4Number parses one part of an IPv4 address as inet_aton and the
// WHATWG URL standard do: decimal, octal with a leading 0, hexadecimal
// with 0x ("0x" alone is 0). Values above 2^32 saturate.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		var d uint64
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if n <= 1<<32 {
			n = n*base + d
		}
	}
	return n, true
}

// parseIPv4 parses a host that ends in a number as the WHATWG URL standard
// does: one to four parts, the last filling the remaining bytes.
func parseIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, part := range parts {
		n, ok := parseIPv4Number(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// canonicalPath returns u's path decoded, cleaned, case-folded, without
// conda token segments and trailing slashes.
func canonicalPath(scheme string, u *url.URL) (string, error) {
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		// Decoded, it would split a segment in two, as some servers do
		// and others do not.
		return "", errors.New("the path holds an escaped \"/\" (%2F)")
	}
	p := u.Path
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f:
			return "", errors.New("the path holds a control character")
		case c == '\\' || c == ';' || c == '%' || c == '?' || c == '#':
			// A separator to some servers (\, ;), or decoded twice by
			// others (%, ?, #): no channel name has them.
			return "", fmt.Errorf("the path holds %q", string(c))
		case c >= 0x80 && scheme != "file":
			return "", errors.New("the path holds a non-ASCII character")
		}
	}
	if !utf8.ValidString(p) {
		return "", errors.New("the path is not valid UTF-8")
	}
	if p == "" {
		return "", nil
	}
	if err := checkSegments(scheme, p); err != nil {
		return "", err
	}
	// "//", "/./" and "/../" spell the same channel, and so does any case.
	if scheme == "file" && !isASCII(p) {
		// macOS file systems take the composed and decomposed spellings of
		// a name as one (NFC and NFD): so does the canonical form.
		p = norm.NFC.String(foldCase(norm.NFC.String(p)))
	}
	p = foldCase(p)
	// conda's /t/<token> goes wherever it is, before or after the dot
	// segments are resolved: servers differ there, so both readings must
	// agree.
	stripped, err := stripToken(p)
	if err != nil {
		return "", err
	}
	cleaned, err := stripToken(path.Clean("/" + p))
	if err != nil {
		return "", err
	}
	canon := func(p string) string { return strings.TrimRight(path.Clean("/"+p), "/") }
	if canon(stripped) != canon(cleaned) {
		return "", errors.New("the path reads as two channels, with its /t/<token> segment removed before or after its dot segments are resolved")
	}
	return canon(cleaned), nil
}

// embedsIPv4 are the IPv6 ranges that carry an IPv4 address: NAT64
// (RFC 6052, 8215), SIIT (RFC 7915), IPv4-compatible (RFC 4291) and 6to4
// (RFC 3056). Clients on such networks reach the IPv4 host through them,
// which has another spelling: they are refused rather than mapped.
var embedsIPv4 = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("::ffff:0:0:0/96"), netip.MustParsePrefix("::/96"), netip.MustParsePrefix("2002::/16"),
}

// checkSegments refuses path segments that Windows servers and file
// systems read as another name: a trailing "." or space ("chan." is
// "chan"), a ":" (alternate data streams, "chan::$INDEX_ALLOCATION"), and
// 8.3 short names ("CHANNE~1"). A file URL's drive letter ("/C:") is
// allowed.
func checkSegments(scheme, p string) error {
	for i, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			continue
		}
		if scheme == "file" && i == 1 && len(seg) == 2 && seg[1] == ':' && ('a' <= seg[0]|0x20 && seg[0]|0x20 <= 'z') {
			continue
		}
		switch {
		case strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " "):
			return fmt.Errorf("the path segment %q ends in a dot or space, which some servers drop", textsafe.Clip(seg))
		case strings.Contains(seg, ":"):
			return fmt.Errorf("the path segment %q holds a \":\"", textsafe.Clip(seg))
		case shortName(seg):
			return fmt.Errorf("the path segment %q looks like a Windows short name (~ and a digit)", textsafe.Clip(seg))
		}
	}
	return nil
}

// shortName reports whether seg holds "~" followed by a digit, as 8.3
// short names do.
func shortName(seg string) bool {
	for i := 0; i+1 < len(seg); i++ {
		if seg[i] == '~' && '0' <= seg[i+1] && seg[i+1] <= '9' {
			return true
		}
	}
	return false
}

// stripToken removes conda's /t/<token> segment pair from a decoded path,
// wherever it is, as conda does (Anaconda Server puts it below a prefix:
// /api/repo/t/<token>/<channel>). An empty or dot token, or a second "t"
// segment, is refused: clients and servers read those apart.
func stripToken(p string) (string, error) {
	segs := strings.Split(p, "/")
	ts := 0
	for i := 1; i+1 < len(segs); i++ {
		if segs[i] == "t" || segs[i] == "T" {
			ts++
		}
	}
	if ts > 1 {
		// "/t/t/x": a token "t", or two tokens? Clients differ.
		return "", errors.New("the path has more than one /t/ segment")
	}
	out := make([]string, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		if (segs[i] == "t" || segs[i] == "T") && i+1 < len(segs) && i > 0 {
			tok := segs[i+1]
			if tok == "" || tok == "." || tok == ".." {
				return "", errors.New("the path has a /t/ segment with an empty or dot token")
			}
			i++
			continue
		}
		out = append(out, segs[i])
	}
	return strings.Join(out, "/"), nil
}

// foldCase maps s to one representative of its case-insensitive class, as
// strings.EqualFold sees it: each rune becomes the lower-case rune of its
// simple case-folding orbit (so the Kelvin sign is "k"), or, when the
// orbit has none, its smallest rune. It is idempotent.
func foldCase(s string) string {
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			return r
		}
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		// The lower case of the smallest rune, when it is in the orbit,
		// is a function of the orbit too.
		for f := unicode.SimpleFold(m); ; f = unicode.SimpleFold(f) {
			if f == unicode.ToLower(m) {
				return f
			}
			if f == m {
				return m
			}
		}
	}, s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
