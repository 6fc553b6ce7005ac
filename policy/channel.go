package policy

import (
	"fmt"
	"strings"

	"github.com/condasigs/condasigs/fetch"
)

// ChannelURL turns a channel name or URL into the normalised URL channels
// are compared by: a name ("conda-forge", "org/label/dev") is appended to
// alias; a URL is normalised by [fetch.NormalizeChannel] (scheme and host
// case, default port, credentials, /t/<token>, query and trailing slashes).
func ChannelURL(channel, alias string) (string, error) {
	channel = strings.TrimSpace(channel)
	if channel == "" {
		return "", fmt.Errorf("empty channel")
	}
	if !strings.Contains(channel, "://") {
		if alias == "" {
			alias = DefaultChannelAlias
		}
		channel = strings.TrimRight(alias, "/") + "/" + strings.Trim(channel, "/")
	}
	return fetch.NormalizeChannel(channel)
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
