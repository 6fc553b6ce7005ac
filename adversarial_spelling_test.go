package condasigs_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

// condaToken is a conda token segment pair as conda finds it in a URL:
// anywhere, the token possibly empty.
var condaToken = regexp.MustCompile(`/t/[A-Za-z0-9_-]*`)

// caseInsensitiveChannel serves ch at /chan on loopback, with the channel
// name matched in any case, as anaconda.org matches its channel names, the
// first conda token removed wherever it is, as conda removes it, and the
// path cleaned of "//" and dot segments, as nginx does.
func caseInsensitiveChannel(t *testing.T, ch *condasigstest.Channel) string {
	t.Helper()
	files := http.FileServer(http.Dir(ch.Dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if loc := condaToken.FindStringIndex(p); loc != nil {
			p = p[:loc[0]] + p[loc[1]:]
		}
		name, rest, _ := strings.Cut(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
		if !strings.EqualFold(name, "chan") {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/"+rest, ""
		files.ServeHTTP(w, r2)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// spelling is a channel URL and the policy entry it must select.
type spelling struct{ channel, entry string }

// TestAdversarialSpelling is the attack of the review, end to end: the
// policy requires attestations on a loopback channel (under its address and
// under the name localhost) and on conda-forge, and disables every other
// channel. An unsigned package of the strict channel, looked up through
// another spelling of the channel's URL that reaches the same server, must
// not pass: the spelling selects the strict entry, or is refused.
func TestAdversarialSpelling(t *testing.T) {
	ctx := context.Background()
	ss := condasigstest.NewSigstore(t)
	ch := condasigstest.NewChannel(t, "linux-64")
	base := caseInsensitiveChannel(t, ch)
	u, err := url.Parse(base)
	require.NoError(t, err)
	port := u.Port()
	canonical := base + "/chan"

	const unsigned, signed = "unsigned-1.0-0.conda", "signed-1.0-0.conda"
	unsignedRec := ch.Add(t, condasigstest.Package{Filename: unsigned, Unsigned: true})
	signedRec := ch.Add(t, condasigstest.Package{Filename: signed, Signer: ss, TargetChannel: canonical})

	// The identity condasigstest signs with when a Package names none.
	const kitIdentity = "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"
	strict := func(channel string) policy.ChannelPolicy {
		return policy.ChannelPolicy{Channel: channel, Enabled: true, Policy: policy.Policy{Require: policy.ModeError,
			Identities: []policy.Identity{{SAN: kitIdentity, Issuer: condasigstest.DefaultIssuer}}}}
	}
	localhost := "http://localhost:" + port + "/chan"
	v, err := condasigs.New(condasigs.Options{
		Trust: trustroot.NewStatic(ss.TrustedMaterial(), "virtual"),
		Config: &policy.Config{
			Channels: []policy.ChannelPolicy{strict(canonical), strict(localhost), strict("conda-forge")},
			Default:  &policy.ChannelPolicy{Channel: "*", Enabled: false},
		},
		Fetcher: fetch.New(fetch.Options{RetryMax: -1, Timeout: 5 * time.Second}),
	})
	require.NoError(t, err)

	// The control: the canonical URL fails the unsigned package (and
	// passes the signed one, below).
	rep, err := v.Verify(ctx, condasigs.Package{URL: canonical + "/linux-64/" + unsigned, Record: unsignedRec})
	require.NoError(t, err)
	require.Equal(t, policy.Fail, rep.Outcome)
	require.Equal(t, canonical, rep.PolicyEntry)

	// Spellings Go's HTTP client takes to this very server (checked below
	// with a GET), and the entry each must select.
	reachable := []spelling{
		{canonical, canonical},
		{"http://127.0.0.1:0" + port + "/chan", canonical},                        // leading-zero port
		{"http://127.0.0.1:000" + port + "/chan", canonical},                      // more of them
		{"http://[::ffff:127.0.0.1]:" + port + "/chan", canonical},                // IPv4-mapped IPv6
		{"http://[::FFFF:7F00:1]:" + port + "/chan", canonical},                   // the same, in hex
		{"http://１２７．０．０．１:" + port + "/chan", canonical},                         // fullwidth digits and dots
		{"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1:" + port + "/chan", canonical}, // escaped fullwidth digits
		{base + "/CHAN", canonical},                                               // path case
		{base + "/Chan", canonical},                                               // path case
		{base + "/%43han", canonical},                                             // an escaped capital
		{base + "//chan", canonical},                                              // a doubled slash
		{"http://u:p@127.0.0.1:" + port + "/chan", canonical},                     // user information
		{base + "/t/tk-1/chan", canonical},                                        // a conda token
	}
	// Spellings that reach the same server through a resolver (localhost,
	// inet_aton forms) or that are only checked, not fetched: an unsigned
	// package needs no request.
	resolved := []spelling{
		{"http://localhost:0" + port + "/chan", localhost},
		{"http://LOCALHOST.:" + port + "/CHAN", localhost},
		{"http://ｌｏｃａｌｈｏｓｔ:" + port + "/chan", localhost},
		{"http://127.1:" + port + "/chan", canonical},
		{"http://0x7f.0.0.1:" + port + "/chan", canonical},
		{"http://2130706433:" + port + "/chan", canonical},
		{"http://017700000001:" + port + "/chan", canonical},
		{"https://conda.anaconda.org:0443/conda-forge", "conda-forge"},
		{"https://conda.anaconda.org:/Conda-Forge", "conda-forge"},
		{"http://conda.anaconda.org/conda-forge", "conda-forge"},
		{"http://conda.anaconda.org:80/conda-forge", "conda-forge"},
	}
	// Spellings no canonical form can be given: Verify refuses them. The
	// unspecified addresses reach this server too (checked below).
	unspecified := []spelling{
		{"http://0.0.0.0:" + port + "/chan", ""},
		{"http://[::]:" + port + "/chan", ""},
	}
	refused := []string{
		"http://127.0.0.1:" + port + "/chan%2F..%2Fchan",
		"http://127.0.0.1:" + port + "/chan;x",
		"http://[::ffff:127.1]:" + port + "/chan",
		"http://127.0.0.1:" + port + "/ｃｈａｎ",
		"http://127.0.0.1:" + port + "/t//chan",   // an empty token: the host's root, or /chan
		"http://127.0.0.1:" + port + "/./t//chan", // the same behind a dot segment
		"http://127.0.0.1:" + port + "/%74//chan", // the same, escaped
		"http://127.0.0.1:" + port + "/t/a/t/b/chan",
		base + "/x/../chan",                          // dot segments in a package URL: servers resolve them first
		base + "/./t/tk-1/chan",                      // two tokens
		"http://[64:ff9b::7f00:1]:" + port + "/chan", // NAT64
		"http://127.0.0.1:" + port + "/chan./",       // a Windows alias
	}

	noProxy := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	for _, c := range append(reachable, unspecified...) {
		resp, err := noProxy.Get(c.channel + "/linux-64/" + unsigned)
		require.NoError(t, err, c.channel)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s does not reach the channel: the test is void", c.channel)
		require.NotEmpty(t, body)
	}

	for _, c := range append(reachable, resolved...) {
		rep, err := v.Verify(ctx, condasigs.Package{URL: c.channel + "/linux-64/" + unsigned, Record: unsignedRec})
		if !assert.NoError(t, err, c.channel) {
			continue
		}
		assert.Equal(t, policy.Fail, rep.Outcome, "%s: an unsigned package of a strict channel: %s (%+v)", c.channel, rep.Outcome, rep.Reasons)
		assert.Equal(t, c.entry, rep.PolicyEntry, c.channel)
		assert.Equal(t, policy.StatusUnsigned, rep.Status, c.channel)
	}
	for _, c := range unspecified {
		refused = append(refused, c.channel)
	}
	for _, c := range refused {
		rep, err := v.Verify(ctx, condasigs.Package{URL: c + "/linux-64/" + unsigned, Record: unsignedRec})
		if !assert.Error(t, err, c) {
			assert.NotEqual(t, policy.Pass, rep.Outcome, "%s passes under entry %q", c, rep.PolicyEntry)
		}
	}

	// The signed package still passes through the spellings that reach the
	// server: its targetChannel matches the canonical URL.
	for _, c := range reachable {
		rep, err := v.Verify(ctx, condasigs.Package{URL: c.channel + "/linux-64/" + signed, Record: signedRec})
		require.NoError(t, err, c.channel)
		assert.Equal(t, policy.Pass, rep.Outcome, "%s: %+v", c.channel, rep.Reasons)
		assert.Equal(t, policy.StatusVerified, rep.Status, c.channel)
	}
}
