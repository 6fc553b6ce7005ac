package conda_test

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/conda"
)

// Fuzz targets of the conda package. Run them with scripts/fuzz.sh; their
// seed corpora (f.Add and testdata/fuzz) run with the ordinary tests.

var fuzzDigestRE = regexp.MustCompile(`\A[0-9a-f]{64}\z`)

// fuzzMarker begins and ends every secret of FuzzRedact, so that any piece
// of a secret left in the output is seen, whatever the fuzzed middle holds.
const fuzzMarker = "S3CR3T"

// FuzzSidecarURL: an accepted digest is exactly 64 lowercase hex
// characters; the URL is <package-url>.sigs.<digest>, with the package
// URL's query string kept as it was and the fragment dropped; a refusal is
// an error matching conda.ErrInvalidDigest or conda.ErrInvalidURL.
func FuzzSidecarURL(f *testing.F) {
	d := strings.Repeat("0f", 32)
	for _, s := range []struct{ u, d string }{
		{"https://prefix.dev/sigstore-example/linux-64/signed-package-2.1.0-hb0f4dca_0.conda", d},
		{"https://user:pw@conda.example.org/t/tk-1/chan/noarch/a-1-0.conda?token=x&y=%2F", d},
		{"https://h/c/linux-64/a%2Fb-1-0.conda?#frag", d},
		{"https://h/c/linux-64/a%20b.conda?q", d},
		{"file:///srv/chan/linux-64/a-1-0.tar.bz2", d},
		{"file:x.conda", d},
		{"https://h/c/linux-64/", d},
		{"ftp://h/c/linux-64/a.conda", d},
		{"https://h/c/linux-64/a.conda", strings.ToUpper(d)},
		{"https://h/c/linux-64/a.conda", d[:63]},
		{"https://h/c/linux-64/a.conda", d + "0"},
		{"https://h/c/linux-64/a.conda", "../" + d[3:]},
		{"https://h/c/linux-64/a.conda", d[:60] + "?x=1"},
	} {
		f.Add(s.u, s.d)
	}
	f.Fuzz(func(t *testing.T, packageURL, digest string) {
		got, err := conda.SidecarURL(packageURL, digest)
		if err != nil {
			want := conda.ErrInvalidURL
			if !fuzzDigestRE.MatchString(digest) {
				want = conda.ErrInvalidDigest // the digest is checked first
			}
			if !errors.Is(err, want) {
				t.Fatalf("conda.SidecarURL(%q, %q): error %v, want one matching %v", packageURL, digest, err, want)
			}
			return
		}
		if !fuzzDigestRE.MatchString(digest) {
			t.Fatalf("SidecarURL accepted the digest %q", digest)
		}
		orig, err := url.Parse(packageURL)
		if err != nil {
			t.Fatalf("SidecarURL accepted the unparseable URL %q", packageURL)
		}
		base, query, hasQuery := strings.Cut(got, "?")
		if !strings.HasSuffix(base, ".sigs."+digest) {
			t.Fatalf("conda.SidecarURL(%q) = %q: does not end with .sigs.<digest> before the query", packageURL, got)
		}
		if strings.Contains(base, "#") || strings.Contains(query, "#") {
			t.Fatalf("conda.SidecarURL(%q) = %q keeps a fragment", packageURL, got)
		}
		if query != orig.RawQuery || hasQuery != (orig.RawQuery != "" || orig.ForceQuery) {
			t.Fatalf("conda.SidecarURL(%q) = %q: query %q (present %v), want %q", packageURL, got, query, hasQuery, orig.RawQuery)
		}
		// The sidecar URL is the package's: same scheme, credentials, host
		// and path, plus the suffix.
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("conda.SidecarURL(%q) = %q does not parse: %v", packageURL, got, err)
		}
		if u.Scheme != orig.Scheme || u.Host != orig.Host || u.User.String() != orig.User.String() || u.Path != orig.Path+".sigs."+digest {
			t.Fatalf("conda.SidecarURL(%q) = %q: scheme, user, host or path changed", packageURL, got)
		}
	})
}

// FuzzRedact builds a URL carrying one secret as a password, as a conda
// /t/<token>/ segment ("t" spelled plainly or escaped, as %74) and as a
// ?token= query parameter, around fuzzed user, host and path parts: the
// redacted form never holds the secret, nor any piece of it that reaches
// the marker at either end.
func FuzzRedact(f *testing.F) {
	for _, s := range [][4]string{
		{"user", "tk-0123456789abcdef", "conda.example.org", "chan/linux-64/a-1-0.conda"},
		{"", "", "h", ""},
		{"u@x", "a/b", "h:8443", "c/../t/x/y.conda"},
		{"u", "a%2Fb?c#d", "[::1]", "c?x=1#f"},
		{"u", "t", "h", "t/"},
		{"u:v", "..", "H.example.org.", "%2e%2e/x.conda"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, user, secret, host, path string) {
		if strings.Contains(strings.ToUpper(user+host+path), fuzzMarker) {
			return // the marker must come from the secret only
		}
		secret = fuzzMarker + secret + fuzzMarker
		for _, tSeg := range []string{"t", "%74"} {
			raw := "https://" + url.UserPassword(user, secret).String() + "@" + host +
				"/" + tSeg + "/" + url.PathEscape(secret) + "/" + path + "?token=" + url.QueryEscape(secret) + "#" + url.PathEscape(secret)
			got := conda.Redact(raw)
			if strings.Contains(strings.ToUpper(got), fuzzMarker) {
				t.Fatalf("conda.Redact(%q) = %q: holds the secret %q", raw, got, secret)
			}
		}
	})
}

// FuzzNormalizeChannel: NormalizeChannel is idempotent, and its result
// never keeps credentials, a query or a fragment.
func FuzzNormalizeChannel(f *testing.F) {
	for _, s := range []string{
		"https://prefix.dev/sigstore-example",
		"HTTPS://Prefix.DEV:443/sigstore-example/",
		"https://user:pw@prefix.dev/t/tk-123/sigstore-example?x=1#f",
		"http://h:80//a/./b/../c//",
		"https://h./c", "https://[::1]:8443/c", "https://[fe80::1%25en0]/c",
		"file:///srv/channel/", "file:channel", "conda-forge", "",
		"https://h/t/a/t/b/c", "https://h/./t/a/c", "https://h..//c",
		"https://h/%2e%2e/c%2Fd", "  https://h/c  ",
		"https://./c", "https://:443/c", "https://h/%74/tk/c", "https://[::1%25eth0]:1/c", "https://[::]x/c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, channel string) {
		n1, err := conda.NormalizeChannel(channel)
		if err != nil {
			return
		}
		n2, err := conda.NormalizeChannel(n1)
		if err != nil {
			t.Fatalf("conda.NormalizeChannel(%q) = %q, which it refuses: %v", channel, n1, err)
		}
		if n2 != n1 {
			t.Fatalf("NormalizeChannel is not idempotent: %q -> %q -> %q", channel, n1, n2)
		}
		if u, err := url.Parse(n1); err == nil && (u.User != nil || u.RawQuery != "" || u.Fragment != "") {
			t.Fatalf("conda.NormalizeChannel(%q) = %q keeps credentials, a query or a fragment", channel, n1)
		}
	})
}
