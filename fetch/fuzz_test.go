package fetch_test

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condasigs/condasigs/fetch"
)

// Fuzz targets of the fetch package. Run them with scripts/fuzz.sh; their
// seed corpora (f.Add and testdata/fuzz) run with the ordinary tests.

// fuzzCappedReader serves data and fails with a too-large *fetch.Error once
// more than limit bytes have been asked of it, as the client's capped body
// does.
type fuzzCappedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *fuzzCappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more than the cap tells "too large" from "exactly the cap".
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, &fetch.Error{Kind: fetch.KindTooLarge, Msg: "larger than the cap"}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// FuzzScanRepodata: ScanRepodata never panics on any bytes; on success
// every record has a non-empty filename; every failure is a *fetch.Error
// of kind malformed, or too-large when the reader's cap was exceeded.
func FuzzScanRepodata(f *testing.F) {
	d := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{"info":{"subdir":"linux-64"},"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1","build":"0","build_number":0,"sha256":"` + d + `"}},` +
			`"packages.conda":{"a-1-0.conda":{"name":"a","version":"1","build":"0","build_number":0,"sha256":"` + d + `","attestations_sha256":"` + d + `"}},"repodata_version":1}`,
		`{"packages":null,"packages.conda":{}}`,
		`{"packages.conda":{"x-1-0.conda":{"attestations_sha256":null}}}`,
		`{"packages.conda":{"x-1-0.conda":{"sha256":"a","SHA256":"b"}}}`,
		`{"packages.conda":{"x-1-0.conda":{"sha256":"a","sha256":"b"}}}`,
		`{"packages.conda":{"x-1-0.conda":{"size":1e400}}}`,
		`{"packages.conda":{"x-1-0.conda":{}, "x-1-0.conda":{}}}`,
		`{"packages.conda":[]}`,
		`{"packages.conda":{"x":{}}} trailing`,
		`{"packages":{"":{}}}`,
		`[]`, `null`, ``, `{`, "\xff",
	} {
		f.Add([]byte(s), uint16(len(s)), uint16(0))
		f.Add([]byte(s), uint16(len(s)/2), uint16(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, stopAt uint16) {
		r := &fuzzCappedReader{r: bytes.NewReader(data), left: int64(limit), limit: int64(limit)}
		n := 0
		var records []fetch.Record
		stopped := false
		err := fetch.ScanRepodata(r, func(rec fetch.Record) bool {
			records = append(records, rec)
			n++
			// stopAt 0 never stops; k stops after the k-th record.
			if stopAt != 0 && n >= int(stopAt) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil {
			var fe *fetch.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *fetch.Error", err, err)
			}
			switch fe.Kind {
			case fetch.KindMalformed:
			case fetch.KindTooLarge:
				if len(data) <= int(limit) {
					t.Fatalf("too-large with %d bytes under a cap of %d: %v", len(data), limit, err)
				}
			default:
				t.Fatalf("error of kind %q, want malformed or too-large: %v", fe.Kind, err)
			}
			if !errors.Is(err, fetch.ErrMalformed) && !errors.Is(err, fetch.ErrTooLarge) {
				t.Fatalf("errors.Is matches neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			return
		}
		if !stopped && len(data) > int(limit) {
			t.Fatalf("%d bytes read in full under a cap of %d without an error", len(data), limit)
		}
		for i, rec := range records {
			if rec.Filename == "" {
				t.Fatalf("record %d of an accepted document has an empty filename: %+v", i, rec)
			}
		}
	})
}

var fuzzDigestRE = regexp.MustCompile(`\A[0-9a-f]{64}\z`)

// FuzzSidecarURL: an accepted digest is exactly 64 lowercase hex
// characters; the URL is <package-url>.sigs.<digest>, with the package
// URL's query string kept as it was and the fragment dropped; a refusal is
// an invalid-digest or invalid-url *fetch.Error.
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
		got, err := fetch.SidecarURL(packageURL, digest)
		if err != nil {
			want := fetch.KindInvalidURL
			if !fuzzDigestRE.MatchString(digest) {
				want = fetch.KindInvalidDigest // the digest is checked first
			}
			if k := fetch.KindOf(err); k != want {
				t.Fatalf("SidecarURL(%q, %q): error of kind %q, want %q: %v", packageURL, digest, k, want, err)
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
			t.Fatalf("SidecarURL(%q) = %q: does not end with .sigs.<digest> before the query", packageURL, got)
		}
		if strings.Contains(base, "#") || strings.Contains(query, "#") {
			t.Fatalf("SidecarURL(%q) = %q keeps a fragment", packageURL, got)
		}
		if query != orig.RawQuery || hasQuery != (orig.RawQuery != "" || orig.ForceQuery) {
			t.Fatalf("SidecarURL(%q) = %q: query %q (present %v), want %q", packageURL, got, query, hasQuery, orig.RawQuery)
		}
		// The sidecar URL is the package's: same scheme, credentials, host
		// and path, plus the suffix.
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("SidecarURL(%q) = %q does not parse: %v", packageURL, got, err)
		}
		if u.Scheme != orig.Scheme || u.Host != orig.Host || u.User.String() != orig.User.String() || u.Path != orig.Path+".sigs."+digest {
			t.Fatalf("SidecarURL(%q) = %q: scheme, user, host or path changed", packageURL, got)
		}
	})
}

// fuzzMarker begins and ends every secret of FuzzRedact, so that any piece
// of a secret left in the output is seen, whatever the fuzzed middle holds.
const fuzzMarker = "S3CR3T"

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
			got := fetch.Redact(raw)
			if strings.Contains(strings.ToUpper(got), fuzzMarker) {
				t.Fatalf("Redact(%q) = %q: holds the secret %q", raw, got, secret)
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
		n1, err := fetch.NormalizeChannel(channel)
		if err != nil {
			return
		}
		n2, err := fetch.NormalizeChannel(n1)
		if err != nil {
			t.Fatalf("NormalizeChannel(%q) = %q, which it refuses: %v", channel, n1, err)
		}
		if n2 != n1 {
			t.Fatalf("NormalizeChannel is not idempotent: %q -> %q -> %q", channel, n1, n2)
		}
		if u, err := url.Parse(n1); err == nil && (u.User != nil || u.RawQuery != "" || u.Fragment != "") {
			t.Fatalf("NormalizeChannel(%q) = %q keeps credentials, a query or a fragment", channel, n1)
		}
	})
}
