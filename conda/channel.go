package conda

import (
	"fmt"
	"strings"
)

// ChannelURL turns a channel name or URL into the canonical URL channels
// are compared by, so that every spelling of one channel selects the same
// entry: a name ("conda-forge", "org/label/dev") is appended to alias
// (https://conda.anaconda.org when empty, as conda's channel_alias); the
// URL is then put in canonical form by [NormalizeChannel] (scheme,
// IDNA-mapped host, IPv4 and IPv6 forms, port, path escapes, dot segments,
// case, credentials, /t/<token>, query and trailing slashes), or refused
// when clients would not agree on where it leads.
func ChannelURL(channel, alias string) (string, error) {
	if hasScheme(channel) {
		// As it is ("file:/srv/chan" too): a URL with spaces around it is
		// refused, since clients read it differently.
		return NormalizeChannel(channel)
	}
	name := strings.Trim(strings.Trim(channel, c0AndSpace), "/")
	if hasScheme(name) {
		return NormalizeChannel(channel) // a URL with spaces around it
	}
	if name == "" {
		return "", fmt.Errorf("empty channel")
	}
	if alias == "" {
		alias = defaultChannelAlias
	}
	return NormalizeChannel(strings.TrimRight(alias, "/") + "/" + name)
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

// defaultChannelAlias expands channel names such as "conda-forge", as
// conda's channel_alias does.
const defaultChannelAlias = "https://conda.anaconda.org"
