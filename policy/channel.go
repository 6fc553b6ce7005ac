package policy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/condasigs/condasigs/fetch"
)

// ChannelURL turns a channel name or URL into the canonical URL channels
// are compared by, so that every spelling of one channel selects the same
// entry: a name ("conda-forge", "org/label/dev") is appended to alias; the
// URL is then put in canonical form by [fetch.NormalizeChannel] (scheme,
// IDNA-mapped host, IPv4 and IPv6 forms, port, path escapes, dot segments,
// case, credentials, /t/<token>, query and trailing slashes), or refused
// when clients would not agree on where it leads.
func ChannelURL(channel, alias string) (string, error) {
	if hasScheme(channel) {
		// As it is ("file:/srv/chan" too): a URL with spaces around it is
		// refused, since clients read it differently.
		return fetch.NormalizeChannel(channel)
	}
	name := strings.Trim(strings.Trim(channel, c0AndSpace), "/")
	if hasScheme(name) {
		return fetch.NormalizeChannel(channel) // a URL with spaces around it
	}
	if name == "" {
		return "", fmt.Errorf("empty channel")
	}
	if alias == "" {
		alias = DefaultChannelAlias
	}
	return fetch.NormalizeChannel(strings.TrimRight(alias, "/") + "/" + name)
}

// entryURL is ChannelURL for the channels and mirrors a configuration
// names. An entry names a channel, not credentials: user information or a
// /t/<token> segment in it is refused, since the canonical form drops
// them, and the entry would look as if it covered another host or path
// than it does.
func entryURL(channel, alias string) (string, error) {
	p := strings.TrimSpace(channel)
	if hasScheme(p) {
		u, err := url.Parse(p)
		if err != nil {
			return ChannelURL(channel, alias) // says what is wrong
		}
		if u.User != nil {
			return "", errors.New("a policy entry holds no user information: write the channel's URL without user@ (credentials belong in the package URLs)")
		}
		p = u.Path
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range segs {
		if dec, err := url.PathUnescape(seg); err == nil {
			seg = dec // "%74" is "t" to a server
		}
		if strings.EqualFold(seg, "t") && i+1 < len(segs) {
			return "", errors.New("a policy entry holds no conda token (/t/<token>): write the channel's URL without it (tokens belong in the package URLs)")
		}
	}
	return ChannelURL(channel, alias)
}

// hasScheme reports whether s begins with a URL scheme (RFC 3986: a letter,
// then letters, digits, "+", "-" or ".", then ":"). A channel name has no
// colon, so whatever has one is a URL, and checked as such.
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (('0' <= c && c <= '9') || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// c0AndSpace is what ChannelURL strips around a channel name: C0 controls
// and spaces, as around a URL in WHATWG parsers. Other Unicode spaces are
// part of the name, and refused in it.
const c0AndSpace = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "

// segmentPrefix reports whether channel is url itself or a prefix of it
// ending at a path-segment boundary: "https://h/conda-forge" covers
// "https://h/conda-forge/label/x" but not "https://h/conda-forge-staging".
func segmentPrefix(channel, url string) bool {
	if !strings.HasPrefix(url, channel) {
		return false
	}
	rest := url[len(channel):]
	return rest == "" || rest[0] == '/'
}
