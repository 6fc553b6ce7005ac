package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A channel that redirects to another host (anaconda.org sends private
// downloads to a CDN; a mirror to its storage) must not get the
// channel's credentials sent to that host: Go's http.Client sets Referer to the previous URL on every redirect, query
// string and /t/<token>/ path included (it strips only user:pass@).
// FindRecords now asks for three documents, each a chance to leak. The
// redirect target must see no token, in its URL (which the redirect
// chose) or in any header.
func TestRedirectSendsNoTokenInReferer(t *testing.T) {
	var mu sync.Mutex
	var leaks []string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, "SECRET") {
					leaks = append(leaks, r.URL.Path+": "+k+": "+v)
				}
			}
		}
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer cdn.Close()
	other := strings.Replace(cdn.URL, "127.0.0.1", "localhost", 1) // another host
	channel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other+"/storage/"+path.Base(r.URL.Path), http.StatusFound)
	}))
	defer channel.Close()
	c := newShardClient(t, Options{})
	for _, u := range []string{
		channel.URL + "/t/PATH-SECRET/chan/linux-64/repodata.json",
		channel.URL + "/chan/linux-64/repodata.json?token=QUERY-SECRET",
	} {
		_, err := c.FindRecords(context.Background(), u, []string{"a-1-0.conda"})
		requireKindOf(t, err, KindNotFound)
	}
	assert.Empty(t, leaks, "the redirect target got the channel's token")
}
