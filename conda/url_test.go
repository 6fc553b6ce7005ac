package conda_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/conda"
)

const d64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256("")

// invalidDigests are attestations_sha256 values CEP 50 forbids.
var invalidDigests = map[string]string{
	"empty":           "",
	"63 chars":        d64[:63],
	"65 chars":        d64 + "0",
	"128 chars":       d64 + d64,
	"uppercase":       strings.ToUpper(d64),
	"one uppercase":   d64[:10] + "A" + d64[11:],
	"non-hex letter":  d64[:63] + "g",
	"dot dot slash":   "../" + d64[3:],
	"slash":           d64[:32] + "/" + d64[33:],
	"question mark":   d64[:63] + "?",
	"hash":            "#" + d64[1:],
	"percent":         d64[:61] + "%2F",
	"space":           d64[:63] + " ",
	"newline":         d64[:63] + "\n",
	"NUL":             d64[:63] + "\x00",
	"0x prefix":       "0x" + d64[2:],
	"multi-byte rune": d64[:62] + "é", // 64 bytes, 63 runes
	"sha256: prefix":  "sha256:" + d64,
}

func TestValidateDigest(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{d64, strings.Repeat("0", 64), strings.Repeat("f", 64), "0123456789abcdef" + d64[16:]} {
		assert.NoErrorf(t, conda.ValidateDigest(ok), "%q", ok)
	}
	for name, bad := range invalidDigests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, conda.ValidateDigest(bad), conda.ErrInvalidDigest)
		})
	}
}

func TestSidecarURL(t *testing.T) {
	t.Parallel()
	sfx := ".sigs." + d64
	tests := []struct{ name, pkg, want string }{
		{"https", "https://conda.anaconda.org/conda-forge/noarch/pkg-1.0-0.conda",
			"https://conda.anaconda.org/conda-forge/noarch/pkg-1.0-0.conda" + sfx},
		{"tar.bz2", "http://127.0.0.1:8080/chan/linux-64/pkg-1.0-0.tar.bz2",
			"http://127.0.0.1:8080/chan/linux-64/pkg-1.0-0.tar.bz2" + sfx},
		{"query kept", "https://h/chan/noarch/p.conda?token=abc&x=1",
			"https://h/chan/noarch/p.conda" + sfx + "?token=abc&x=1"},
		{"fragment dropped", "https://h/chan/noarch/p.conda#frag",
			"https://h/chan/noarch/p.conda" + sfx},
		{"query kept, fragment dropped", "https://h/chan/noarch/p.conda?t=1#frag",
			"https://h/chan/noarch/p.conda" + sfx + "?t=1"},
		{"credentials kept for fetching", "https://u:p@h/t/TOKEN/chan/noarch/p.conda",
			"https://u:p@h/t/TOKEN/chan/noarch/p.conda" + sfx},
		{"escaped path kept", "https://h/chan/noarch/p%2Bq.conda",
			"https://h/chan/noarch/p%2Bq.conda" + sfx},
		{"space escaped", "https://h/my%20chan/noarch/p.conda",
			"https://h/my%20chan/noarch/p.conda" + sfx},
		{"file", "file:///srv/chan/noarch/p.conda", "file:///srv/chan/noarch/p.conda" + sfx},
		{"scheme case", "HTTPS://h/c/noarch/p.conda", "https://h/c/noarch/p.conda" + sfx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := conda.SidecarURL(tt.pkg, d64)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, "#")
		})
	}
}

func TestSidecarURLRejectsInvalidDigestFirst(t *testing.T) {
	t.Parallel()
	for name, bad := range invalidDigests {
		// The digest is checked before the URL: even a bad URL yields invalid-digest.
		for _, pkg := range []string{"https://h/chan/noarch/p.conda", "ftp://nowhere"} {
			got, err := conda.SidecarURL(pkg, bad)
			require.ErrorIs(t, err, conda.ErrInvalidDigest)
			assert.Emptyf(t, got, "%s", name)
		}
	}
}

func TestSidecarURLInvalidPackageURL(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{
		"",
		"p.conda",
		"/chan/noarch/p.conda",
		"ftp://h/chan/noarch/p.conda",
		"s3://bucket/chan/noarch/p.conda",
		"https:///chan/noarch/p.conda",
		"https:chan/noarch/p.conda",
		"https://h",
		"https://h/",
		"https://h/chan/noarch/",
		"http://[::1/chan/noarch/p.conda",
		"https://h/chan/noarch/%zz.conda",
		"https://h/chan/noarch/p.conda\x7f",
	} {
		got, err := conda.SidecarURL(pkg, d64)
		require.ErrorIs(t, err, conda.ErrInvalidURL)
		assert.Emptyf(t, got, "%q", pkg)
	}
}

func TestSplitPackageURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pkg string
		want      conda.PackageLocation
	}{
		{"plain", "https://conda.anaconda.org/conda-forge/linux-64/numpy-2.1.0-py312_0.conda",
			conda.PackageLocation{Channel: "https://conda.anaconda.org/conda-forge", Subdir: "linux-64",
				Filename: "numpy-2.1.0-py312_0.conda", RepodataURL: "https://conda.anaconda.org/conda-forge/linux-64/repodata.json"}},
		{"channel at the host root", "https://repo.example/noarch/p.tar.bz2",
			conda.PackageLocation{Channel: "https://repo.example", Subdir: "noarch", Filename: "p.tar.bz2",
				RepodataURL: "https://repo.example/noarch/repodata.json"}},
		{"deep channel", "http://h:8080/a/b/c/osx-arm64/p.conda",
			conda.PackageLocation{Channel: "http://h:8080/a/b/c", Subdir: "osx-arm64", Filename: "p.conda",
				RepodataURL: "http://h:8080/a/b/c/osx-arm64/repodata.json"}},
		{"scheme lowered, host case and default port kept", "HTTPS://Conda.Example:443/Chan/noarch/p.conda",
			conda.PackageLocation{Channel: "https://Conda.Example:443/Chan", Subdir: "noarch", Filename: "p.conda",
				RepodataURL: "https://Conda.Example:443/Chan/noarch/repodata.json"}},
		{"credentials, token and query", "https://user:pass@h/t/tk-123/chan/noarch/p.conda?token=abc#frag",
			conda.PackageLocation{Channel: "https://h/chan", Subdir: "noarch", Filename: "p.conda",
				RepodataURL: "https://user:pass@h/t/tk-123/chan/noarch/repodata.json?token=abc"}},
		{"token only, channel at the root", "https://h/t/tk/noarch/p.conda",
			conda.PackageLocation{Channel: "https://h", Subdir: "noarch", Filename: "p.conda",
				RepodataURL: "https://h/t/tk/noarch/repodata.json"}},
		{"escaped characters", "https://h/my%20chan/noarch/p%2Bq.conda",
			conda.PackageLocation{Channel: "https://h/my%20chan", Subdir: "noarch", Filename: "p+q.conda",
				RepodataURL: "https://h/my%20chan/noarch/repodata.json"}},
		{"file", "file:///srv/channels/local/linux-64/p.conda",
			conda.PackageLocation{Channel: "file:///srv/channels/local", Subdir: "linux-64", Filename: "p.conda",
				RepodataURL: "file:///srv/channels/local/linux-64/repodata.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := conda.SplitPackageURL(tt.pkg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSplitPackageURLInvalid(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{
		"",
		"https://h",
		"https://h/",
		"https://h/p.conda", // no subdir
		"https://h/chan/noarch/",
		"https://h//p.conda",
		"ftp://h/chan/noarch/p.conda",
		"https:///chan/noarch/p.conda",
		"conda-forge/noarch/p.conda",
		"http://[::1/chan/noarch/p.conda",
		// an escaped "/" would vanish from the channel, decoded
		"https://h/chan%2F..%2Fother/noarch/p.conda",
		"https://h/t/a%2fb/chan/noarch/p.conda",
		"https://h/chan/noarch/a%2Fp.conda",
	} {
		_, err := conda.SplitPackageURL(pkg)
		require.ErrorIs(t, err, conda.ErrInvalidURL)
	}
}

func TestNormalizeChannel(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge"},
		{"HTTPS://Conda.Anaconda.ORG/conda-forge", "https://conda.anaconda.org/conda-forge"},
		{"https://h/Conda-Forge", "https://h/conda-forge"}, // served as one channel
		{"http://h/c", "https://h/c"},                      // http on port 80 is https
		{"https://h:443/c", "https://h/c"},
		{"http://h:80/c", "https://h/c"},
		{"https://h:80/c", "https://h:80/c"},
		{"http://h:443/c", "http://h:443/c"},
		{"https://h:8443/c", "https://h:8443/c"},
		{"https://h/c/", "https://h/c"},
		{"https://h/c///", "https://h/c"},
		{"https://h/", "https://h"},
		{"https://h", "https://h"},
		{"https://user:pass@h/c", "https://h/c"},
		{"https://user@h/c", "https://h/c"},
		{"https://h/t/tk-123/c", "https://h/c"},
		{"https://h/t/tk-123/c/", "https://h/c"},
		{"https://h/t/tk-123", "https://h"},
		{"https://h/t/tk-123/", "https://h"},
		{"https://h/t", "https://h/t"},         // a channel named t, no token
		{"https://h/x/t/y/c", "https://h/x/c"}, // /t/<token> below a prefix goes too, as conda strips it
		{"https://h/c?token=abc", "https://h/c"},
		{"https://h/c?", "https://h/c"},
		{"https://h/c#frag", "https://h/c"},
		{"https://[2001:DB8::1]:443/c", "https://[2001:db8::1]/c"},
		{"http://[::1]:8080/c/", "http://[::1]:8080/c"},
		{"https://h/my%20chan", "https://h/my%20chan"},
		{"file:///srv/chan/", "file:///srv/chan"},
		{"FILE:///srv/chan", "file:///srv/chan"},
		{"HTTPS://USER:PASS@Prefix.DEV:443/t/TK/foobar/?x=1#y", "https://prefix.dev/foobar"},
	}
	for _, tt := range tests {
		got, err := conda.NormalizeChannel(tt.in)
		require.NoErrorf(t, err, "%q", tt.in)
		assert.Equalf(t, tt.want, got, "NormalizeChannel(%q)", tt.in)
		again, err := conda.NormalizeChannel(got)
		require.NoError(t, err)
		assert.Equalf(t, got, again, "NormalizeChannel is not idempotent on %q", tt.in)
	}
}

func TestNormalizeChannelInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"conda-forge",
		"/srv/chan",
		"https:///c",
		"https:c",
		"//h/c",
		"http://[::1/c",
		"https://user:SECRETPASS@h:badport/c",
	} {
		_, err := conda.NormalizeChannel(in)
		require.Errorf(t, err, "%q", in)
		assert.NotContains(t, err.Error(), "SECRETPASS")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h/c/noarch/p.conda", "https://h/c/noarch/p.conda"},
		{"https://user:pass@h/c", "https://h/c"},
		{"https://user@h/c", "https://h/c"},
		{"https://h/c?token=abc", "https://h/c?REDACTED"},
		{"https://h/c?a=1&b=2", "https://h/c?REDACTED"},
		{"https://h/c?", "https://h/c?"},
		{"https://h/c#frag", "https://h/c"},
		{"https://h/c?token=abc#frag", "https://h/c?REDACTED"},
		{"https://h/t/tk-123/c/noarch/p.conda", "https://h/t/REDACTED/c/noarch/p.conda"},
		{"https://h/t/tk-123/", "https://h/t/REDACTED/"},
		{"https://h/t/tk-123", "https://h/t/REDACTED"},
		{"https://h/t/", "https://h/t/"},
		{"https://h/prefix/t/tk/c", "https://h/prefix/t/REDACTED/c"},
		{"https://h/t/a/t/b/c", "https://h/t/REDACTED/t/REDACTED/c"},
		// A "t" after a "t" segment still marks the token that follows it.
		{"https://h/T/t/tk-123/c", "https://h/T/REDACTED/REDACTED/c"},
		{"https://h/c/t/t/tk-123", "https://h/c/t/REDACTED/REDACTED"},
		{"https://u:p@h:8443/t/tk/c/noarch/p.conda.sigs." + d64 + "?token=x#f",
			"https://h:8443/t/REDACTED/c/noarch/p.conda.sigs." + d64 + "?REDACTED"},
		{"file:///srv/c/noarch/p.conda", "file:///srv/c/noarch/p.conda"},
		{"https://h/my%20chan/p.conda", "https://h/my%20chan/p.conda"},
		{"http://[::1/c?token=abc", "<unparseable URL>"},
		{"https://u:p@h/%zz?token=abc", "<unparseable URL>"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, conda.Redact(tt.in), "Redact(%q)", tt.in)
	}
}

func TestRedactOpaqueURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https:user:s3cret@h/linux-64/a.conda", "http:s3cret", "file:s3cret/x"} {
		got := conda.Redact(u)
		assert.NotContains(t, got, "s3cret", u)
		_, err := conda.SidecarURL(u, strings.Repeat("a", 64))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret", u)
		_, err = conda.SplitPackageURL(u)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret", u)
	}
}

func TestNormalizeChannelSpellings(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"https://conda.anaconda.org//conda-forge",
		"https://conda.anaconda.org/./conda-forge/",
		"https://conda.anaconda.org/x/../conda-forge",
		"https://conda.anaconda.org./conda-forge",
		"HTTPS://CONDA.ANACONDA.ORG:443/conda-forge//",
	} {
		got, err := conda.NormalizeChannel(in)
		require.NoError(t, err, in)
		assert.Equal(t, "https://conda.anaconda.org/conda-forge", got, in)
	}
}

// TestNormalizeChannelSameDestination lists, per class, spellings that
// clients (Go's net/http, conda and requests, rattler and reqwest) send to
// the same server and channel: each must have the class's canonical form.
func TestNormalizeChannelSameDestination(t *testing.T) {
	t.Parallel()
	classes := []struct {
		name, want string
		spellings  []string
	}{
		{"port spelling", "http://localhost:8080/chan", []string{
			"http://localhost:8080/chan",
			"http://localhost:08080/chan",
			"http://localhost:0000000000000008080/chan",
		}},
		{"default port", "https://conda.anaconda.org/conda-forge", []string{
			"https://conda.anaconda.org:443/conda-forge",
			"https://conda.anaconda.org:0443/conda-forge",
			"https://conda.anaconda.org:/conda-forge",
			"http://conda.anaconda.org/conda-forge", // redirected to https
			"http://conda.anaconda.org:80/conda-forge",
			"http://conda.anaconda.org:080/conda-forge",
			"http://conda.anaconda.org:/conda-forge",
		}},
		{"host case and trailing dot", "http://localhost:8080", []string{
			"http://LOCALHOST:8080",
			"http://LocalHost.:8080/",
			"http://user:pw@localhost.:8080/?q#f",
		}},
		{"host IDNA: width, compatibility forms, case", "http://localhost:8080", []string{
			"http://ｌｏｃａｌｈｏｓｔ:8080",         // fullwidth
			"http://ＬＯＣＡＬＨＯＳＴ:8080",         // fullwidth capitals
			"http://%EF%BD%8Cocalhost:8080", // an escaped fullwidth l
			"http://lo\u00adcalhost:8080",   // a soft hyphen maps to nothing
			"http://localhost\u3002:8080",   // ideographic full stop as the root
			"http://\u2112ocalhost:8080",    // script capital L
			"http://local\u210Cost:8080",    // black-letter capital H
			"http://ℓocalhost:8080",         // script small l
		}},
		{"host IDNA: non-ASCII names", "https://xn--bcher-kva.example/c", []string{
			"https://bücher.example/c",
			"https://BÜCHER.example/c",
			"https://b%C3%BCcher.example/c",
			"https://bu\u0308cher.example/c", // decomposed ü
			"https://XN--BCHER-KVA.EXAMPLE/c",
			"https://ｂüｃｈｅｒ．ｅｘａｍｐｌｅ/c",
		}},
		{"IPv4 numeric forms (WHATWG, inet_aton)", "http://127.0.0.1:8080", []string{
			"http://127.1:8080",
			"http://127.0.1:8080",
			"http://0x7f.0.0.1:8080",
			"http://0X7F.0.0.0X1:8080",
			"http://0177.0.0.01:8080",
			"http://017700000001:8080",
			"http://2130706433:8080",
			"http://0x7f000001:8080",
			"http://127.0.0.1.:8080",
			"http://１２７．０．０．１:8080", // fullwidth digits and dots
		}},
		{"IPv4-mapped IPv6", "http://127.0.0.1:8080", []string{
			"http://[::ffff:127.0.0.1]:8080",
			"http://[::FFFF:127.0.0.1]:8080",
			"http://[::ffff:7f00:1]:8080",
			"http://[0:0:0:0:0:ffff:7f00:0001]:8080",
		}},
		{"IPv6 literal forms", "https://[2001:db8::1]/c", []string{
			"https://[2001:DB8::1]/c",
			"https://[2001:0db8:0000:0000:0000:0000:0000:0001]/c",
			"https://[2001:db8:0:0::1]:443/c",
		}},
		{"path escapes, dot segments, slashes", "https://h/conda-forge/label/dev", []string{
			"https://h/%63onda-forge/label/dev",
			"https://h/conda%2dforge/label/dev",
			"https://h/conda-forge/%6c%61bel/dev/",
			"https://h//conda-forge///label/dev//",
			"https://h/./conda-forge/label/./dev",
			"https://h/x/../conda-forge/label/dev",
			"https://h/%2e/conda-forge/%2E%2e/conda-forge/label/dev",
			"https://h/../../conda-forge/label/dev",
		}},
		{"path case", "https://conda.anaconda.org/conda-forge", []string{
			"https://conda.anaconda.org/Conda-Forge",
			"https://conda.anaconda.org/CONDA-FORGE/",
			"https://conda.anaconda.org/%43onda-forge",
		}},
		{"conda token and user information", "https://h/c", []string{
			"https://h/t/tk-1/c",
			"https://h/T/tk-1/c",
			"https://u:p@h/./t/tk-1/c/",
			"https://h/x/../t/tk-1/c",
			"https://h/./t/tk-1/./c",
		}},
		{"conda token below a prefix (Anaconda Server)", "https://h/api/repo/c", []string{
			"https://h/api/repo/t/tk-1/c",
			"https://h/API/repo/t/TK-1/c/",
		}},
		{"file URLs", "file:///srv/chan", []string{
			"file:///srv/chan/",
			"file:/srv/chan",
			"file://localhost/srv/chan",
			"file://LOCALHOST/srv//Chan",
			"FILE:///srv/./x/../chan",
		}},
	}
	for _, c := range classes {
		for _, in := range c.spellings {
			got, err := conda.NormalizeChannel(in)
			if assert.NoErrorf(t, err, "%s: %q", c.name, in) {
				assert.Equalf(t, c.want, got, "%s: NormalizeChannel(%q)", c.name, in)
			}
		}
	}
}

// TestNormalizeChannelRefusesAmbiguity: spellings that clients read
// differently, or that no channel has, are refused rather than guessed at.
func TestNormalizeChannelRefusesAmbiguity(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		// hosts
		"http://straße.example/c",             // IDNA 2003 and 2008 differ (ß)
		"http://xn--strae-oqa.example\u200d/", // a joiner
		"http://exa_mple%EF%BD%8C.org/",       // STD3 rules refuse "_" in a mapped name
		"http://127.0.0.256/",                 // ends in a number, not IPv4
		"http://256.0.0.1/",
		"http://127.0.0.0x100/",
		"http://1.2.3.4.5/",
		"http://foo.123/",
		"http://foo.0x1/",
		"http://127..1/",
		"http://4294967296/",
		"http://0x100000000/",
		"http://[fe80::1%25eth0]/c", // a zone
		// IPv6 addresses that carry an IPv4 one
		"http://[64:ff9b::7f00:1]/c",    // NAT64
		"http://[64:ff9b::127.0.0.1]/c", // NAT64, dotted
		"http://[64:ff9b:1::7f00:1]/c",  // local-use NAT64
		"http://[::ffff:0:7f00:1]/c",    // SIIT
		"http://[::127.0.0.1]/c",        // IPv4-compatible
		"http://[2002:7f00:1::1]/c",     // 6to4
		// conda tokens read two ways
		"https://h/t//c",       // an empty token
		"https://h/./t//c",     // the same, behind a dot segment
		"https://h/%74//c",     // the same, escaped
		"https://h/t/./c",      // a dot token
		"https://h/t/../c",     // a dot-dot token
		"https://h/t/a/t/b/c",  // two tokens
		"https://h/t/a/../b/c", // token then dot segments: /b/c or /t/b/c
		// Windows aliases
		"https://h/chan./linux-64",
		"https://h/chan%20/linux-64",
		"https://h/chan::$INDEX_ALLOCATION/x",
		"https://h/CHANNE~1/x",
		"http://0.0.0.0:8080/c", // unspecified: the local host
		"http://0:8080/c",
		"http://0x/c",
		"http://[::]:8080/c",
		"http://[::ffff:0.0.0.0]:8080/c",
		"http://[::ffff:127.1]/c",
		"http://[127.1]/c",
		"http://[127.0.0.1]/c",
		"http://[h]/c",
		"http://h..example/c",
		"http://h../c",
		"http://.h/c",
		"http://h%25x/c",
		"http://h!x/c",
		"https://./c",
		// ports
		"http://h:0/c",
		"http://h:65536/c",
		"http://h:99999999999999999999999/c",
		"http://h:+80/c",
		"http://h:0x50/c",
		"http://h:80:80/c",
		// paths
		"https://h/a%2Fb/c",
		"https://h/a%2fb",
		"https://h/t/a%2Fb/c", // even in a token
		"https://h\\conda-forge",
		"https://h/x\\..\\conda-forge",
		"https://h/x%5C..%5Cconda-forge",
		"https://h/conda-forge;x",
		"https://h/conda-forge%3Bx",
		"https://h/conda-forge%00",
		"https://h/conda-forge%0a",
		"https://h/conda-forge%7F",
		"https://h/%252e%252e/c",
		"https://h/c%3Fx",
		"https://h/c%23x",
		"https://h/ｃｏｎｄａ-forge",  // non-ASCII in an HTTP path
		"https://h/\u212aitware", // Kelvin sign
		"https://h/c%FF",
		"file:///srv/c%FF", // not UTF-8
		"https://h/c\u00a0",
		// shape
		"https:h/c",
		"file:channel",
		"file:///",
		"https://h/c\tx",
		"https://h/c\nx",
		// around: WHATWG strips it, Go keeps it
		" https://h/c",
		"https://h/c ",
		"https://h/c\n",
		"\x00https://h/c",
		"  https://h/c/ \n",
	} {
		got, err := conda.NormalizeChannel(in)
		assert.Errorf(t, err, "NormalizeChannel(%q) = %q", in, got)
	}
}

// TestNormalizeChannelFoldIdempotent checks the case fold over every rune
// that has a case mapping, in a file URL (where non-ASCII paths are kept).
func TestNormalizeChannelFoldIdempotent(t *testing.T) {
	t.Parallel()
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) == r && unicode.ToLower(r) == r && unicode.ToUpper(r) == r {
			continue
		}
		in := "file:///x" + string(r)
		n1, err := conda.NormalizeChannel(in)
		require.NoError(t, err, "%U", r)
		n2, err := conda.NormalizeChannel(n1)
		require.NoError(t, err, "%U", r)
		require.Equal(t, n1, n2, "%U", r)
		// Every rune of the orbit has the same form.
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			nf, err := conda.NormalizeChannel("file:///x" + string(f))
			require.NoError(t, err)
			require.Equal(t, n1, nf, "%U and %U", r, f)
		}
	}
}

// A conda token is a credential whatever its escaping: a package URL whose
// token holds an escaped "/" is refused, and neither part of the token is
// ever printed. The repodata URL keeps the package URL's escaping, as the
// sidecar URL does, so that both requests reach the same directory.
func TestTokenWithEscapedSlash(t *testing.T) {
	t.Parallel()
	const raw = "http://host/t/SEC%2FRETTOKEN/chan/linux-64/a-1-0.conda"
	_, err := conda.SplitPackageURL(raw)
	require.Error(t, err)
	for _, s := range []string{err.Error(), conda.Redact(raw)} {
		assert.NotContains(t, s, "SEC")
		assert.NotContains(t, s, "RETTOKEN")
	}

	loc, err := conda.SplitPackageURL("https://host/t/tk-1/ch%41n%2Dx/linux-64/a-1-0.conda?x=1")
	require.NoError(t, err)
	assert.Equal(t, "https://host/t/tk-1/ch%41n%2Dx/linux-64/repodata.json?x=1", loc.RepodataURL)
	sidecar, err := conda.SidecarURL("https://host/t/tk-1/ch%41n%2Dx/linux-64/a-1-0.conda?x=1", strings.Repeat("a", 64))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sidecar, "https://host/t/tk-1/ch%41n%2Dx/linux-64/"), sidecar)
	assert.NotContains(t, loc.Channel, "tk-1")
}

// A package URL with dot segments is refused: a server resolves them
// before it reads a /t/<token> segment, and "/t/Y/../lenient/strict/..."
// would name the strict channel to the server and another to us.
func TestSplitPackageURLRefusesDotSegments(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"https://h/t/Y/../lenient/strict/linux-64/p-1-0.conda",
		"https://h/chan/./linux-64/p-1-0.conda",
		"https://h/chan/%2e%2e/other/linux-64/p-1-0.conda",
		"https://h/a/../chan/linux-64/p-1-0.conda",
	} {
		_, err := conda.SplitPackageURL(raw)
		require.Error(t, err, raw)
		assert.ErrorIs(t, err, conda.ErrInvalidURL, raw)
	}
}

// The composed and decomposed spellings of a non-ASCII file path reach the
// same directory on macOS: they are one channel.
func TestNormalizeChannelFileNFC(t *testing.T) {
	t.Parallel()
	composed, err := conda.NormalizeChannel("file:///srv/caf\u00e9/chan")
	require.NoError(t, err)
	decomposed, err := conda.NormalizeChannel("file:///srv/cafe\u0301/chan")
	require.NoError(t, err)
	assert.Equal(t, composed, decomposed)
	again, err := conda.NormalizeChannel(composed)
	require.NoError(t, err)
	assert.Equal(t, composed, again, "idempotent")
}
