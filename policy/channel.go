package policy

import (
	"errors"
	"net/url"
	"strings"

	"github.com/condasigs/condasigs/conda"
)

// entryURL is ChannelURL for the channels and mirrors a configuration
// names. An entry names a channel, not credentials: user information or a
// /t/<token> segment in it is refused, since the canonical form drops
// them, and the entry would look as if it covered another host or path
// than it does.
func entryURL(channel, alias string) (string, error) {
	p := strings.TrimSpace(channel)
	// A URL has a scheme (RFC 3986, as url.Parse reads it); a name has no
	// colon. What does not parse is checked as a name, then refused by
	// ChannelURL, which says what is wrong.
	if u, err := url.Parse(p); err == nil && u.Scheme != "" {
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
	return conda.ChannelURL(channel, alias)
}

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
