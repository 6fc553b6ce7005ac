package fetch

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// ValidateDigest checks that s is exactly 64 lowercase hexadecimal
// characters, the only form CEP 50 allows for attestations_sha256. It is
// checked before any URL is built from s.
func ValidateDigest(s string) error {
	if len(s) != 64 {
		return &Error{Kind: KindInvalidDigest, Msg: fmt.Sprintf("attestations_sha256 has %d characters, want 64 lowercase hex", len(s))}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return &Error{Kind: KindInvalidDigest, Msg: fmt.Sprintf("attestations_sha256 has a character other than lowercase hex at offset %d", i)}
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

// SplitPackageURL splits <channel>/<subdir>/<filename> into its parts.
func SplitPackageURL(packageURL string) (PackageLocation, error) {
	u, err := parsePackageURL(packageURL)
	if err != nil {
		return PackageLocation{}, err
	}
	dir, filename := path.Split(u.Path)
	channelPath, subdir := path.Split(strings.TrimSuffix(dir, "/"))
	if filename == "" || subdir == "" {
		return PackageLocation{}, &Error{Kind: KindInvalidURL, URL: Redact(packageURL),
			Msg: "a package URL has the form <channel>/<subdir>/<filename>"}
	}
	repodata := *u
	repodata.Path = dir + "repodata.json"
	repodata.RawPath = ""
	repodata.Fragment, repodata.RawFragment = "", ""

	channel := *u
	channel.User = nil
	channel.RawQuery, channel.ForceQuery = "", false
	channel.Fragment, channel.RawFragment = "", ""
	channel.Path = strings.TrimSuffix(stripTokenSegment(channelPath), "/")
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
		return nil, &Error{Kind: KindInvalidURL, URL: Redact(s), Msg: "cannot parse the package URL"}
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, &Error{Kind: KindInvalidURL, URL: Redact(s), Msg: "the package URL has no host"}
		}
	case "file":
	default:
		return nil, &Error{Kind: KindInvalidURL, URL: Redact(s),
			Msg: fmt.Sprintf("unsupported URL scheme %q: use http, https or file", u.Scheme)}
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return nil, &Error{Kind: KindInvalidURL, URL: Redact(s), Msg: "the package URL does not end in a file name"}
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
	return err == nil && u == "t"
}

func redactTokenSegment(p string) string {
	segs := strings.Split(p, "/")
	for i := 0; i+1 < len(segs); i++ {
		// Also at the end of the path: a channel URL may end with its token.
		if isT(segs[i]) && segs[i+1] != "" {
			segs[i+1] = "REDACTED"
		}
	}
	return strings.Join(segs, "/")
}

// NormalizeChannel returns a channel URL in the form used to compare
// channels: scheme and host in lower case (without a trailing dot), default
// port, user information, conda /t/<token> segments, query, fragment and
// trailing slashes removed, and the path cleaned of empty, "." and ".."
// segments.
func NormalizeChannel(channel string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(channel))
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Scheme != "file") {
		return "", fmt.Errorf("%q is not an absolute channel URL", Redact(channel))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".") // "example.org." is "example.org"
	if host == "" && u.Scheme != "file" {
		return "", fmt.Errorf("%q is not an absolute channel URL", Redact(channel))
	}
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return "", fmt.Errorf("%q has an invalid host", Redact(channel))
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.User = nil
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	p := u.Path
	if p != "" {
		p = path.Clean("/" + p) // "//", "/./" and "/../" spell the same channel
	}
	for { // conda's /t/<token> prefix, however often it is repeated
		q := stripTokenSegment(p)
		if q == p {
			break
		}
		p = q
	}
	u.Path = strings.TrimRight(p, "/")
	u.RawPath = ""
	return u.String(), nil
}

func stripTokenSegment(p string) string {
	segs := strings.Split(p, "/")
	out := segs[:0]
	for i := 0; i < len(segs); i++ {
		// /t/<token>/<channel>, or /t/<token> at the end: with or without a
		// trailing slash, the token goes.
		if i == 1 && i+1 < len(segs) && segs[i] == "t" && segs[i+1] != "" {
			i++ // drop "t" and the token: /t/<token>/<channel>
			continue
		}
		out = append(out, segs[i])
	}
	return strings.Join(out, "/")
}
