package policy_test

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/policy"
)

// canonFuzzRules has entries of every kind of host (name, IDNA name, IPv4,
// IPv6, file) and nested paths, each with its own name, and a disabled
// catch-all: a respelling that escapes its entry shows as another Entry.
func canonFuzzRules(t testing.TB) *policy.CompiledConfig {
	t.Helper()
	var entries []policy.ChannelPolicy
	for _, ch := range canonFuzzEntries {
		entries = append(entries, policy.ChannelPolicy{Channel: ch, Enabled: false})
	}
	r, err := policy.CompileConfig(policy.Config{Channels: entries, Default: &policy.ChannelPolicy{Enabled: false}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var canonFuzzEntries = []string{
	"conda-forge",
	"conda-forge/label/dev",
	"http://127.0.0.1:8080",
	"http://localhost:8080/chan",
	"https://[2001:db8::1]/c",
	"https://bücher.example/c",
	"http://10.0.0.1/mirror",
	"https://prefix.dev/t",
	"file:///srv/Channel",
}

// respeller rewrites the parts of a URL, one operation per pair of bytes of
// ops, each a way in which clients reach the same server and channel by
// another string.
type respeller struct {
	scheme, user, host, port, path, rest string
	emptyPort                            bool
}

func newRespeller(raw string) (*respeller, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Scheme == "" {
		return nil, false
	}
	r := &respeller{scheme: u.Scheme, host: u.Host, path: u.EscapedPath()}
	if u.User != nil {
		r.user = u.User.String() + "@"
	}
	if h := u.Hostname(); !strings.HasPrefix(u.Host, "[") {
		r.host = h
	} else {
		r.host = "[" + h + "]"
	}
	r.port = u.Port()
	if u.RawQuery != "" || u.ForceQuery {
		r.rest = "?" + u.RawQuery
	}
	if u.Fragment != "" {
		r.rest += "#" + u.EscapedFragment()
	}
	return r, true
}

func (r *respeller) String() string {
	s := r.scheme + "://" + r.user + r.host
	if r.port != "" || r.emptyPort {
		s += ":" + r.port
	}
	return s + r.path + r.rest
}

// dottedQuad returns the host as an IPv4 address when it is written as
// one.
func (r *respeller) dottedQuad() (netip.Addr, bool) {
	a, err := netip.ParseAddr(r.host)
	return a, err == nil && a.Is4()
}

// fullwidth maps ASCII letters, digits, "-" and "." to their fullwidth
// forms; which ones is chosen by the bits of sel.
func fullwidth(s string, sel byte) string {
	var b strings.Builder
	for i, c := range s {
		on := sel&(1<<(uint(i)%8)) != 0 || sel == 0
		switch {
		case on && c == '.':
			b.WriteRune([]rune{'\uff0e', '\u3002', '\uff61'}[int(sel)%3])
		case on && (c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')):
			b.WriteRune(c - '!' + '\uff01')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// toggleCase changes the case of the letters chosen by sel; a non-ASCII
// letter only when the change round-trips (so that it stays the same
// letter).
func toggleCase(s string, sel byte) string {
	var b strings.Builder
	for i, c := range s {
		if sel&(1<<(uint(i)%8)) != 0 || sel == 0 {
			u := unicode.ToUpper(c)
			if c < utf8.RuneSelf || unicode.ToLower(u) == c {
				c = u
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

// boundaries returns the offsets of the path's slashes and its end.
func boundaries(p string) []int {
	var at []int
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			at = append(at, i)
		}
	}
	return append(at, len(p))
}

func (r *respeller) apply(op, arg byte) {
	defaults := map[string]string{"http": "80", "https": "443"}
	switch op % 21 {
	case 0: // leading zeros on the port
		if r.port != "" {
			r.port = strings.Repeat("0", 1+int(arg)%5) + r.port
		}
	case 1: // the default port, written out
		if d, ok := defaults[strings.ToLower(r.scheme)]; ok && r.port == "" {
			r.port = strings.Repeat("0", int(arg)%3) + d
		}
	case 2: // an empty port
		if r.port == "" {
			r.emptyPort = true
		}
	case 3: // host case
		if !strings.HasPrefix(r.host, "[") {
			r.host = toggleCase(r.host, arg)
		}
	case 4: // the root's trailing dot
		if !strings.HasPrefix(r.host, "[") && r.host != "" && !strings.HasSuffix(r.host, ".") {
			r.host += "."
		}
	case 5: // fullwidth host characters
		if !strings.HasPrefix(r.host, "[") {
			r.host = fullwidth(r.host, arg)
		}
	case 6: // non-ASCII host bytes percent-escaped, as Go's parser allows
		if !strings.HasPrefix(r.host, "[") {
			var b strings.Builder
			for i := 0; i < len(r.host); i++ {
				if c := r.host[i]; c >= utf8.RuneSelf {
					fmt.Fprintf(&b, []string{"%%%02X", "%%%02x"}[arg%2], c)
				} else {
					b.WriteByte(c)
				}
			}
			r.host = b.String()
		}
	case 7: // an IPv4 address in another numeric form
		if a, ok := r.dottedQuad(); ok {
			q := a.As4()
			v := uint32(q[0])<<24 | uint32(q[1])<<16 | uint32(q[2])<<8 | uint32(q[3])
			switch arg % 7 {
			case 0:
				r.host = fmt.Sprint(v)
			case 1:
				r.host = fmt.Sprintf("0x%x", v)
			case 2:
				r.host = fmt.Sprintf("0%o", v)
			case 3:
				r.host = fmt.Sprintf("%d.%d.%d", q[0], q[1], v&0xffff)
			case 4:
				r.host = fmt.Sprintf("%d.%d", q[0], v&0xffffff)
			case 5:
				r.host = fmt.Sprintf("0x%X.0%o.%d.0x%x", q[0], q[1], q[2], q[3])
			case 6:
				r.host = fmt.Sprintf("0%o.0x%02x.00%o.%d.", q[0], q[1], q[2], q[3])
			}
		}
	case 8: // an IPv4 address as an IPv4-mapped IPv6 address
		if a, ok := r.dottedQuad(); ok {
			q := a.As4()
			r.host = []string{
				"[::ffff:" + a.String() + "]",
				fmt.Sprintf("[::FFFF:%X:%X]", uint16(q[0])<<8|uint16(q[1]), uint16(q[2])<<8|uint16(q[3])),
				"[0:0:0:0:0:ffff:" + a.String() + "]",
				fmt.Sprintf("[0000:0000::ffff:%04x:%04x]", uint16(q[0])<<8|uint16(q[1]), uint16(q[2])<<8|uint16(q[3])),
			}[arg%4]
		}
	case 9: // an IPv6 address in its long form, in either case
		if strings.HasPrefix(r.host, "[") {
			if a, err := netip.ParseAddr(strings.Trim(r.host, "[]")); err == nil && a.Is6() && a.Zone() == "" {
				s := a.StringExpanded()
				if arg%2 == 1 {
					s = strings.ToUpper(s)
				}
				r.host = "[" + s + "]"
			}
		}
	case 10: // path case
		r.path = toggleCase(r.path, arg)
	case 11: // a dot segment
		at := boundaries(r.path)
		i := at[int(arg)%len(at)]
		dot := []string{"/.", "/x/..", "/%2e", "/x/%2E%2e", "/y/.%2E"}[int(arg/8)%5]
		r.path = r.path[:i] + dot + r.path[i:]
	case 12: // a doubled slash
		at := boundaries(r.path)
		i := at[int(arg)%len(at)]
		r.path = r.path[:i] + "/" + r.path[i:]
	case 13: // an unreserved character percent-escaped
		var idx []int
		for i := 0; i < len(r.path); i++ {
			switch c := r.path[i]; {
			case c == '%':
				i += 2 // an escape already
			case ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~':
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			i := idx[int(arg)%len(idx)]
			r.path = r.path[:i] + fmt.Sprintf([]string{"%%%02X", "%%%02x"}[arg/128], r.path[i]) + r.path[i+1:]
		}
	case 14: // a trailing slash
		r.path += "/"
	case 15: // a conda token, before a path without dot segments (which
		// servers resolve first, so that they could remove the token)
		dots := false
		for _, seg := range strings.Split(strings.ToLower(r.path), "/") {
			dots = dots || strings.Trim(strings.ReplaceAll(seg, "%2e", "."), ".") == "" && seg != ""
		}
		if !dots {
			r.path = "/t/tk-" + fmt.Sprint(arg) + r.path
		}
	case 16: // user information
		r.user = "user:pw" + fmt.Sprint(arg) + "@"
	case 17: // a query and a fragment
		r.rest = "?token=" + fmt.Sprint(arg) + "#f"
	case 18: // scheme case
		r.scheme = toggleCase(r.scheme, arg)
	case 19: // plain HTTP on the default port, redirected to HTTPS
		switch {
		case strings.EqualFold(r.scheme, "https") && (r.port == "" || strings.TrimLeft(r.port, "0") == "443"):
			r.scheme, r.port = "http", ""
		case strings.EqualFold(r.scheme, "http") && (r.port == "" || strings.TrimLeft(r.port, "0") == "80"):
			r.scheme, r.port = "https", ""
		}
	case 20: // a conda token at any depth, as conda strips it wherever it
		// is (Anaconda Server: /api/repo/t/<token>/<channel>); empty, or
		// "t" escaped, now and then
		at := boundaries(r.path)
		i := at[int(arg)%len(at)]
		tok := []string{"", "tk-" + fmt.Sprint(arg), "TK", "."}[arg/64]
		t := "t"
		if arg%3 == 0 {
			t = "%74"
		}
		r.path = r.path[:i] + "/" + t + "/" + tok + r.path[i:]
	}
}

// canonFuzzSeeds are the seeds of FuzzSameDestinationSameEntry: each
// respelling is accepted, and differs from its base.
var canonFuzzSeeds = []struct {
	base string
	ops  []byte
}{
	{"http://127.0.0.1:8080/linux-64", []byte{0, 1, 8, 0}},
	{"http://127.0.0.1:8080", []byte{7, 0, 7, 1}},
	{"http://127.0.0.1:8080/x", []byte{7, 2, 7, 3, 7, 4}},
	{"http://127.0.0.1:8080/x", []byte{7, 5, 8, 1, 9, 1}},
	{"http://127.0.0.1:8080/x", []byte{7, 6, 5, 0}},
	{"http://127.0.0.1:8080/x", []byte{5, 0, 6, 0}},
	{"http://localhost:8080/chan", []byte{5, 0, 3, 1}},
	{"http://localhost:8080/chan/label/x", []byte{5, 0, 6, 1, 10, 0}},
	{"http://localhost:8080/chan", []byte{3, 0x55, 4, 0, 0, 3}},
	{"http://localhost:8080/chan", []byte{11, 0, 12, 1, 13, 2, 14, 0}},
	{"http://localhost:8080/chan", []byte{15, 7, 16, 1, 17, 2, 18, 0}},
	{"https://conda.anaconda.org/conda-forge/label/dev", []byte{1, 0, 10, 0xf0}},
	{"https://conda.anaconda.org/conda-forge", []byte{1, 1, 0, 2, 19, 0}},
	{"https://conda.anaconda.org/conda-forge", []byte{19, 0, 1, 0, 2, 0}},
	{"https://conda.anaconda.org/conda-forge-staging", []byte{10, 0, 13, 200}},
	{"https://[2001:db8::1]/c/linux-64", []byte{9, 0, 9, 1, 1, 0}},
	{"https://bücher.example/c", []byte{3, 0, 6, 1}},
	{"https://xn--bcher-kva.example/c", []byte{3, 0, 5, 3}},
	{"http://10.0.0.1/mirror", []byte{19, 0, 7, 0, 8, 2}},
	{"https://prefix.dev/t", []byte{15, 1, 10, 1}},
	{"https://prefix.dev/t/x/y", []byte{11, 3, 14, 0}},
	{"file:///srv/Channel/noarch", []byte{10, 0, 11, 8, 12, 0}},
	{"file://localhost/srv/channel", []byte{3, 0, 13, 4}},
	{"https://other.example/chan", []byte{5, 0, 3, 0}},
	{"http://localhost:8080/chan/label/x", []byte{20, 65, 3, 1}},
	{"https://conda.anaconda.org/conda-forge", []byte{20, 64}},
}

// respell applies ops to base.
func respell(base string, ops []byte) (string, bool) {
	r, ok := newRespeller(base)
	if !ok {
		return "", false
	}
	for i := 0; i+1 < len(ops); i += 2 {
		r.apply(ops[i], ops[i+1])
	}
	return r.String(), true
}

// TestSameDestinationSeeds runs the fuzz seeds with the checks that keep
// them useful: the respelling is another string, and not refused.
func TestSameDestinationSeeds(t *testing.T) {
	rules := canonFuzzRules(t)
	for _, s := range canonFuzzSeeds {
		again, ok := respell(s.base, s.ops)
		if !ok || again == s.base {
			t.Errorf("the seed %q %v respells nothing", s.base, s.ops)
			continue
		}
		m1, err := rules.For(s.base)
		if err != nil {
			t.Errorf("seed %q: %v", s.base, err)
			continue
		}
		m2, err := rules.For(again)
		if err != nil {
			t.Errorf("seed %q respelled %q: %v", s.base, again, err)
			continue
		}
		if m1.Entry != m2.Entry || m1.Channel != m2.Channel {
			t.Errorf("%q selects entry %q (channel %s), its respelling %q selects %q (channel %s)",
				s.base, m1.Entry, m1.Channel, again, m2.Entry, m2.Channel)
		}
	}
}

// FuzzSameDestinationSameEntry: a channel URL and a respelling of it that
// clients send to the same server and channel (port zeros, default and
// empty ports, host case, trailing dot, fullwidth and escaped IDNA forms,
// IPv4 numeric forms, IPv4-mapped IPv6, IPv6 long forms, path case, dot
// segments, doubled slashes, escaped unreserved characters, tokens, user
// information, query, scheme case, http on port 80) select the same entry
// and have the same canonical URL, unless one of them is refused. Each
// pair of bytes of ops is an operation and its argument.
func FuzzSameDestinationSameEntry(f *testing.F) {
	for _, s := range canonFuzzSeeds {
		f.Add(s.base, s.ops)
	}
	rules := canonFuzzRules(f)
	f.Fuzz(func(t *testing.T, base string, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		m1, err := rules.For(base)
		if err != nil {
			return
		}
		again, ok := respell(base, ops)
		if !ok {
			return
		}
		m2, err := rules.For(again)
		if err != nil {
			return // refused: Verify fails, it does not choose an entry
		}
		if m1.Entry != m2.Entry || m1.Channel != m2.Channel {
			t.Fatalf("%q selects entry %q (channel %s), its respelling %q selects %q (channel %s)",
				base, m1.Entry, m1.Channel, again, m2.Entry, m2.Channel)
		}
		n1, err1 := conda.NormalizeChannel(base)
		n2, err2 := conda.NormalizeChannel(again)
		if err1 == nil && err2 == nil && n1 != n2 {
			t.Fatalf("%q and its respelling %q have canonical forms %q and %q", base, again, n1, n2)
		}
	})
}
