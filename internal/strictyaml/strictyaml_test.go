package strictyaml

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// oneError returns the one *Error in err.
func oneError(t *testing.T, err error) *Error {
	t.Helper()
	errs := Errors(err)
	require.Len(t, errs, 1, "%v", err)
	return errs[0]
}

func TestParsePanicBecomesError(t *testing.T) {
	r := NewReader(Options{decode: func(*yaml.Decoder, *yaml.Node) error {
		panic("boom in the YAML library")
	}})
	root, err := r.Parse([]byte("a: 1\n"))
	assert.Nil(t, root)
	e := oneError(t, err)
	assert.Equal(t, Panic, e.Kind)
	assert.Equal(t, "boom in the YAML library", e.Msg)
	assert.Equal(t, "unreadable YAML: boom in the YAML library", e.Error())

	// A panic on the second document too.
	calls := 0
	r = NewReader(Options{decode: func(dec *yaml.Decoder, n *yaml.Node) error {
		if calls++; calls == 2 {
			panic(errors.New("second"))
		}
		return dec.Decode(n)
	}})
	root, err = r.Parse([]byte("a: 1\n"))
	assert.Nil(t, root)
	assert.Equal(t, Panic, oneError(t, err).Kind)
}

// A panic while locating a syntax error counts as an error of another
// message: the prefix is taken as one that parses, and the library's line
// is kept.
func TestLocatingRecoversPanics(t *testing.T) {
	calls := 0
	r := NewReader(Options{decode: func(dec *yaml.Decoder, n *yaml.Node) error {
		if calls++; calls > 1 {
			panic("boom while locating")
		}
		return dec.Decode(n)
	}})
	root, err := r.Parse([]byte("a: 1\nb: 2\nc: [\n"))
	assert.Nil(t, root)
	e := oneError(t, err)
	assert.Equal(t, Syntax, e.Kind)
	assert.Equal(t, "did not find expected node content", e.Msg)
	assert.Equal(t, 3, e.Line)
	assert.Greater(t, calls, 1)
	assert.Equal(t, "boom while locating", r.parseError([]byte("a: 1\n")))
}

func TestValueBound(t *testing.T) {
	for _, c := range []struct {
		data string
		want int
	}{
		{"", 1},
		{"a", 1},
		{"a: b\n", 3},
		{"- a\n- b\n", 5},
		{"{a, b}", 4},   // { and , (2)
		{"[a, b]", 4},   // [ and , (2)
		{"? a\n: b", 5}, // ? (2), \n, :
	} {
		assert.Equal(t, c.want, valueBound([]byte(c.data)), "%q", c.data)
	}
}

func TestParseTooDense(t *testing.T) {
	// Refused before the YAML library sees it.
	r := NewReader(Options{decode: func(*yaml.Decoder, *yaml.Node) error {
		t.Fatal("a document too dense was parsed")
		return nil
	}})
	at := []byte("[" + strings.Repeat("b,", MaxValues/2-1) + "]") // [ and 2 a ,
	require.Equal(t, MaxValues, valueBound(at))
	over := append(at[:len(at):len(at)], '\n')
	require.Equal(t, MaxValues+1, valueBound(over))
	root, err := r.Parse(over)
	assert.Nil(t, root)
	e := oneError(t, err)
	assert.Equal(t, TooDense, e.Kind)
	assert.Equal(t, MaxValues+1, e.Values)
	assert.Equal(t, 0, e.Line)
	assert.Contains(t, e.Error(), "some 4000001 values; at most 4000000 are read")

	// At the bound, it is parsed.
	parsed := false
	r = NewReader(Options{decode: func(*yaml.Decoder, *yaml.Node) error {
		parsed = true
		return io.EOF
	}})
	_, err = r.Parse(at)
	assert.True(t, parsed)
	assert.Equal(t, Empty, oneError(t, err).Kind)
}

func TestParseDocuments(t *testing.T) {
	r := NewReader(Options{})
	for _, empty := range []string{"", "# only a comment\n\n", "   \n"} {
		root, err := r.Parse([]byte(empty))
		assert.Nil(t, root)
		assert.Equal(t, Empty, oneError(t, err).Kind, "%q", empty)
	}

	root, err := r.Parse([]byte("~\n"))
	require.NoError(t, err)
	assert.True(t, IsNull(root), "an explicit null is a document")

	root, err = r.Parse([]byte("---\na: 1\n...\n"))
	require.NoError(t, err)
	assert.Equal(t, yaml.MappingNode, root.Kind)

	// A second document comes with the first one's root.
	root, err = r.Parse([]byte("a: 1\n---\nb: 2\n"))
	require.NotNil(t, root)
	assert.Equal(t, yaml.MappingNode, root.Kind)
	e := oneError(t, err)
	assert.Equal(t, SecondDocument, e.Kind)
	assert.Equal(t, 2, e.Line)
	assert.Equal(t, 1, e.Column)

	// So does a syntax error after the first document.
	root, err = r.Parse([]byte("a: 1\n---\nb: [\n"))
	require.NotNil(t, root)
	e = oneError(t, err)
	assert.Equal(t, Syntax, e.Kind)
	assert.Equal(t, 3, e.Line)

	// A syntax error in the first document comes with no root.
	root, err = r.Parse([]byte("a: b: c\n"))
	assert.Nil(t, root)
	e = oneError(t, err)
	assert.Equal(t, Syntax, e.Kind)
	assert.Equal(t, "mapping values are not allowed in this context", e.Msg)
	assert.Equal(t, "line 1: YAML syntax error: mapping values are not allowed in this context", e.Error())
}

// TestSyntaxErrorLines checks that the line of a syntax error is the first
// whose end makes the document fail, where the YAML library gives none,
// one off by one, or the start of the enclosing construct.
func TestSyntaxErrorLines(t *testing.T) {
	for _, c := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"on line 1 (no line from the library)", "a: b: c\nd: e\n", 1, "mapping values are not allowed in this context"},
		{"inside [...] over lines (the library gives its start)", "a: 1\nb: [\n  c,\n  d: e: f\n]\n", 4, "did not find expected ',' or ']'"},
		{"an unterminated quote", "a: 1\nb: 2\nc:\n  d: 'abc\n", 4, "found unexpected end of stream"},
		{"an unknown anchor (no line)", "a: 1\nb: 2\nc: *nope\nd: 4\n", 3, "unknown anchor 'nope' referenced"},
		{"a tab", "a:\n  b: 1\n\tc: 2\n", 3, "found a tab character that violates indentation"},
		{"later in a block", "a:\n  b:\n    c:\n      - d: x\n      e: y\n", 5, "did not find expected '-' indicator"},
		{"unclosed flow, no newline at the end", "a: [1, 2", 1, "did not find expected ',' or ']'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewReader(Options{}).Parse([]byte(c.data))
			e := oneError(t, err)
			assert.Equal(t, Syntax, e.Kind)
			assert.Equal(t, c.msg, e.Msg)
			assert.Equal(t, c.line, e.Line)
		})
	}
}

// TestFirstBadLine checks the search itself: it starts from the library's
// line, tries its neighbours, and bisects documents up to MaxBisect bytes.
func TestFirstBadLine(t *testing.T) {
	// Line 40 of 60 opens a [...] that line 50 breaks.
	var b strings.Builder
	for i := 1; i <= 60; i++ {
		switch {
		case i == 40:
			b.WriteString("k40: [\n")
		case i > 40 && i < 50:
			fmt.Fprintf(&b, "  v%d,\n", i)
		case i == 50:
			b.WriteString("  x: y: z\n")
		case i == 51:
			b.WriteString("]\n")
		default:
			fmt.Fprintf(&b, "k%d: %d\n", i, i)
		}
	}
	data := []byte(b.String())
	r := NewReader(Options{})
	msg := r.parseError(data)
	require.Equal(t, "did not find expected ',' or ']'", msg)
	for _, hint := range []int{0, 1, 39, 40, 49, 50, 51, 60, 1000} {
		assert.Equal(t, 50, r.firstBadLine(data, msg, hint), "hint %d", hint)
	}
	// A message the document does not fail with: the hint is kept.
	assert.Equal(t, 7, r.firstBadLine(data, "something else", 7))
	assert.Equal(t, 0, r.firstBadLine([]byte("a: 1\n"), "anything", 0))
}

// Above MaxBisect, the library's line is kept, or moved by one line, or
// line 1; no bisection.
func TestFirstBadLineAboveCap(t *testing.T) {
	body := strings.Repeat("- a: 1\n", MaxBisect/7+1) // lines 2 .. n+1
	n := MaxBisect/7 + 1
	for _, c := range []struct {
		name, data string
		line       int
	}{
		{"at the end", "k:\n" + body + "- [\n", n + 2},
		{"a tab at the end", "k:\n" + body + "\tx: 1\n", n + 2},
		{"on line 1", "a: b: c\nk:\n" + body, 1},
		{"no line from the library", "k:\n" + body + "- *nope\n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Greater(t, len(c.data), MaxBisect)
			_, err := NewReader(Options{}).Parse([]byte(c.data))
			e := oneError(t, err)
			assert.Equal(t, Syntax, e.Kind)
			assert.Equal(t, c.line, e.Line, "%v", e)
		})
	}
}

// Just below the cap, the construct's start is not kept: the line is
// found by bisection.
func TestFirstBadLineBelowCap(t *testing.T) {
	items := (MaxBisect - 64) / 4
	data := "k: [\n" + strings.Repeat(" a,\n", items) + " b: c: d\n]\n"
	require.LessOrEqual(t, len(data), MaxBisect)
	_, err := NewReader(Options{}).Parse([]byte(data))
	e := oneError(t, err)
	assert.Equal(t, items+2, e.Line)
}

func TestRefuseAliases(t *testing.T) {
	data := []byte(strings.Join([]string{
		"a: &x {k: v}", // 1: an anchor alone is fine
		"b: *x",        // 2
		"c:",           // 3
		"  - 1",        // 4
		"  - *x",       // 5
		"*x : v",       // 6: an alias as a key
		"d: {e: [*x]}", // 7
	}, "\n") + "\n")
	r := NewReader(Options{Aliases: RefuseAliases})
	root, err := r.Parse(data)
	require.NotNil(t, root, "aliases come with the root")
	errs := Errors(err)
	require.Len(t, errs, 4, "%v", err)
	path := func(p []Step) string {
		var b strings.Builder
		for _, s := range p {
			if s.Key == nil {
				fmt.Fprintf(&b, "[%d]", s.Index)
			} else {
				b.WriteString("." + s.Key.Value)
			}
		}
		return b.String()
	}
	var got []string
	for _, e := range errs {
		assert.Equal(t, Alias, e.Kind)
		assert.Equal(t, "x", e.Node.Value)
		got = append(got, fmt.Sprintf("%d:%d %s", e.Line, e.Column, path(e.Path)))
	}
	assert.Equal(t, []string{"2:4 .b", "5:5 .c[1]", "6:1 ", "7:9 .d.e[0]"}, got)
	assert.Equal(t, `line 2: YAML alias "x"`, errs[0].Error())

	// Mapping leaves alias values as they are, and skips alias keys.
	m, err := r.Mapping(root)
	require.NoError(t, err)
	var keys []string
	for _, e := range m.Entries() {
		keys = append(keys, e.Key)
	}
	assert.Equal(t, []string{"a", "b", "c", "d"}, keys)
	b, _ := m.Get("b")
	assert.Equal(t, yaml.AliasNode, b.Value.Kind)

	// Resolved, the same document has no errors.
	_, err = NewReader(Options{}).Parse(data)
	assert.NoError(t, err)
}

// TestResolveAliasesLinear checks that aliases cannot make a Reader do
// more than linear work: a billion laughs is never expanded, and a mapping
// shared by many aliases is read once.
func TestResolveAliasesLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n")
	for i := 1; i <= 12; i++ { // 10^13 values, expanded
		fmt.Fprintf(&b, "l%d: &l%d {", i, i)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "k%d: *l%d, ", j, i-1)
		}
		b.WriteString("}\n")
	}
	start := time.Now()
	r := NewReader(Options{})
	root, err := r.Parse([]byte(b.String()))
	require.NoError(t, err)
	// Every mapping reachable, read as documented: each node once.
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n = Deref(n); seen[n] || n.Kind != yaml.MappingNode {
			return
		}
		seen[n] = true
		for _, e := range mustMapping(t, r, n).Entries() {
			walk(e.Value)
		}
	}
	walk(root)
	assert.Len(t, seen, 14) // the root and l0 to l12
	assert.Less(t, time.Since(start), 5*time.Second)

	// Each mapping node is read once: the same result comes back.
	l12, _ := mustMapping(t, r, root).Get("l12")
	m1 := mustMapping(t, r, l12.Value)
	k0, _ := m1.Get("k0")
	k1, _ := m1.Get("k1")
	assert.Same(t, k0.Value, k1.Value, "aliases resolve to the node, not a copy")
	assert.Same(t, mustMapping(t, r, k0.Value), mustMapping(t, r, k1.Value))
	assert.Same(t, mustMapping(t, r, k0.Value), mustMapping(t, r, k0.At), "an alias reads as the mapping it names")
}

func mustMapping(t *testing.T, r *Reader, n *yaml.Node) *Mapping {
	t.Helper()
	m, err := r.Mapping(n)
	require.NoError(t, err)
	return m
}

func TestMappingRefusals(t *testing.T) {
	for _, c := range []struct {
		name, data string
		opts       Options
		kind       Kind
		line, col  int
		first      int
	}{
		{"duplicate key", "a: 1\nb: 2\na: 3\n", Options{}, DuplicateKey, 3, 1, 1},
		{"duplicate key, quoted differently", "'a': 1\n\"a\": 2\n", Options{}, DuplicateKey, 2, 1, 1},
		{"duplicate key through an alias", "a: &k x\n*k : 2\nx: 3\n", Options{}, DuplicateKey, 3, 1, 2},
		{"merge key", "a: &m {x: 1}\nb:\n  <<: *m\n", Options{}, MergeKey, 3, 3, 0},
		{"list key", "? [a]\n: b\n", Options{}, NonScalarKey, 1, 3, 0},
		{"mapping key via an alias", "a: &m {x: 1}\n*m : b\n", Options{}, NonScalarKey, 2, 1, 0},
		{"number key, StringKeys", "1: a\n", Options{StringKeys: true}, NonStringKey, 1, 1, 0},
		{"null key, StringKeys", "~: a\n", Options{StringKeys: true}, NonStringKey, 1, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(c.opts)
			root, err := r.Parse([]byte(c.data))
			require.NoError(t, err)
			n := root
			if c.name == "merge key" {
				b, _ := mustMappingIgnoring(r, root).Get("b")
				n = b.Value
			}
			m, err := r.Mapping(n)
			require.NotNil(t, m, "the other entries come with the error")
			e := oneError(t, err)
			assert.Equal(t, c.kind, e.Kind)
			assert.Equal(t, c.line, e.Line)
			assert.Equal(t, c.col, e.Column)
			assert.Equal(t, c.first, e.First)
			assert.Same(t, e.Node, n.Content[2*indexOfKey(n, e.Node)])
		})
	}

	// Without StringKeys, a number key is its text.
	r := NewReader(Options{})
	root, err := r.Parse([]byte("1: a\ntrue: b\n"))
	require.NoError(t, err)
	m := mustMapping(t, r, root)
	assert.True(t, m.Has("1"))
	assert.True(t, m.Has("true"))

	// Every problem of a mapping is reported, in order.
	root, err = r.Parse([]byte("a: 1\na: 2\n[x]: 3\nb: 4\nb: 5\n"))
	require.NoError(t, err)
	m, err = r.Mapping(root)
	var kinds []Kind
	for _, e := range Errors(err) {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []Kind{DuplicateKey, NonScalarKey, DuplicateKey}, kinds)
	assert.Len(t, m.Entries(), 2)
	a, _ := m.Get("a")
	assert.Equal(t, "1", a.Value.Value, "the first of two equal keys is kept")
	assert.Contains(t, Errors(err)[0].Error(), `a duplicate key "a" (first at line 1)`)

	// A node that is not a mapping.
	root, err = r.Parse([]byte("[a]\n"))
	require.NoError(t, err)
	_, err = r.Mapping(root)
	assert.Equal(t, NotMapping, oneError(t, err).Kind)
}

func mustMappingIgnoring(r *Reader, n *yaml.Node) *Mapping {
	m, _ := r.Mapping(n)
	return m
}

func indexOfKey(n, key *yaml.Node) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i] == key {
			return i / 2
		}
	}
	return -1
}

func TestScalars(t *testing.T) {
	root, err := NewReader(Options{}).Parse([]byte("[~, '', 123, abc, [x], {y: z}]\n"))
	require.NoError(t, err)
	c := root.Content
	assert.True(t, IsNull(c[0]))
	assert.False(t, IsNull(c[1]), "an empty text is not null")
	for i, want := range []struct {
		s  string
		ok bool
	}{{"", false}, {"", true}, {"123", true}, {"abc", true}, {"", false}, {"", false}} {
		s, ok := Scalar(c[i])
		assert.Equal(t, want.s, s, "item %d", i)
		assert.Equal(t, want.ok, ok, "item %d", i)
	}
}

func TestDescribe(t *testing.T) {
	root, err := NewReader(Options{}).Parse([]byte(strings.Join([]string{
		"- ~",
		"- true",
		"- 12",
		"- 1.5",
		"- text",
		"- 2024-01-02",
		"- !custom x",
		"- [a]",
		"- {a: b}",
		"- " + strings.Repeat("x", 120),
		"- \"a\\nb\"",
	}, "\n") + "\n"))
	require.NoError(t, err)
	var nodes, values []string
	for _, n := range root.Content {
		nodes = append(nodes, DescribeNode(n))
		values = append(values, DescribeValue(n))
	}
	assert.Equal(t, []string{"empty", "a single value", "a single value", "a single value", "a single value", "a single value", "a single value", "a list", "a mapping", "a single value", "a single value"}, nodes)
	assert.Equal(t, []string{
		"an empty value", "the boolean true", "the number 12", "the number 1.5", `"text"`, "the date 2024-01-02",
		"a value tagged !custom", "a list", "a mapping", `"` + strings.Repeat("x", 100) + `..."`, `"a\nb"`,
	}, values)
	assert.Equal(t, "a document", DescribeNode(&yaml.Node{Kind: yaml.DocumentNode}))
	assert.Equal(t, "an alias", DescribeValue(&yaml.Node{Kind: yaml.AliasNode}))
}

func TestDerefBounded(t *testing.T) {
	target := &yaml.Node{Kind: yaml.ScalarNode, Value: "v"}
	a := &yaml.Node{Kind: yaml.AliasNode, Alias: target}
	assert.Same(t, target, Deref(a))
	assert.Same(t, target, Deref(target))
	// A cycle, which the library never makes, ends.
	x := &yaml.Node{Kind: yaml.AliasNode}
	x.Alias = x
	assert.Same(t, x, Deref(x))
}

func TestErrors(t *testing.T) {
	a, b := &Error{Kind: Syntax}, &Error{Kind: Alias}
	assert.Nil(t, Errors(nil))
	assert.Equal(t, []*Error{a}, Errors(a))
	assert.Equal(t, []*Error{a, b}, Errors(errors.Join(a, errors.Join(b))))
	assert.Equal(t, []*Error{a}, Errors(fmt.Errorf("wrapped: %w", a)))
	assert.Empty(t, Errors(errors.New("other")))
	assert.Equal(t, "Kind(99)", Kind(99).String())
}
