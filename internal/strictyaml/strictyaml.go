// Package strictyaml reads one YAML document strictly, for the lock-file
// parser (package lockfile) and the policy configuration (package policy),
// with one set of safeguards. It guarantees:
//
//   - Work and memory linear in the size of the input. A document denser
//     than [MaxValues] values is refused before it is parsed (the YAML
//     library builds a node of some 250 bytes for every value); aliases are
//     either refused ([RefuseAliases]) or never expanded: [Deref] follows
//     one, and [Reader.Mapping] reads each mapping node once however many
//     aliases refer to it.
//   - No panic escapes: one in the YAML library becomes an [Error] of kind
//     [Panic].
//   - Exactly one document: a second one, or anything after the first that
//     does not parse, is an error.
//   - Syntax errors carry the first line whose end makes the document fail
//     (found by bisection in documents up to [MaxBisect] bytes), where the
//     YAML library gives the start of the enclosing construct, a line off by
//     one, or none.
//   - Mapping keys are scalars, written once each; merge keys (<<) are
//     refused, since YAML readers disagree on them.
//
// Every problem is an *[Error] of a [Kind], with its line: the callers word
// the message for their users.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/condasigs/condasigs/internal/textsafe"
	"go.yaml.in/yaml/v3"
)

// MaxValues bounds the values of a document, as counted by valueBound. The
// YAML library builds a node of some 250 bytes for every value before
// anything else is looked at, so a dense document of a few MiB
// ({a,a,a,...}) could otherwise take gigabytes. Generated lock files count
// about one per 11 bytes: 4,000,000 is some 44 MiB of them, more than the
// largest lock file read (32 MiB); and 4,000,000 nodes take about 1 GiB.
// A policy configuration (at most 1 MiB) never comes near it.
const MaxValues = 4_000_000

// MaxBisect bounds the documents whose syntax errors are located by
// bisection: 256 KiB.
//
// The YAML library's line is right or one line off for most errors, in a
// document of any size; it is tried first, with its neighbours. It is far
// off or missing for the others (an unclosed [...] is reported where it
// opens, an unknown anchor at no line): bisection then parses a prefix at
// each of its log2(lines) steps, so that its cost grows with the size of
// the document times the log of its lines. At 256 KiB it stays cheap: some
// 0.2 s of CPU for a lock file (3,300 packages), about 1 s for the worst
// document (37,000 lines of "- a: 1", the slowest YAML to parse), where
// 1 MiB took 0.7 s and 5.6 s (BenchmarkSyntaxErrorAtCap measures it).
//
// Above the cap, up to the 32 MiB of a lock file, locating an error costs
// at most one more parse, no longer than the one that failed: the
// library's line is checked, and moved down one line if the library
// counted from 0. Every real policy configuration is far below the cap; a
// lock file above it whose error the library locates badly gets the line
// of the construct the error is in, or none.
const MaxBisect = 256 << 10

// Kind is the kind of an [Error].
type Kind int

// The kinds of [Error].
const (
	// Syntax is a document that does not parse: Msg is the YAML library's
	// message (without its line), Line the first bad line, 0 if unknown.
	Syntax Kind = iota + 1
	// Empty is a document with no content at all (nothing, or only
	// comments). A document that is an explicit null is not Empty: its root
	// is a null scalar.
	Empty
	// TooDense is a document of more than MaxValues values (Values is the
	// estimate), refused unparsed.
	TooDense
	// Panic is a panic of the YAML library: Msg is its value.
	Panic
	// SecondDocument is a second document after the first: Node is it, for
	// its line and column.
	SecondDocument
	// Alias is an alias (*name) under [RefuseAliases]: Node is it, Path the
	// way to it from the root.
	Alias
	// NotMapping is a node given to Reader.Mapping that is not a mapping.
	NotMapping
	// NonScalarKey is a mapping key that is a mapping, a list or an alias
	// of one: Node is the key as written.
	NonScalarKey
	// NonStringKey is a scalar key that is not text (a number, a boolean,
	// null, a date or a tagged value), under Options.StringKeys: Node is
	// the key.
	NonStringKey
	// MergeKey is a merge key (<<): Node is it.
	MergeKey
	// DuplicateKey is a key written twice in one mapping: Node is the
	// second, First the line of the first.
	DuplicateKey
)

// String names k for messages.
func (k Kind) String() string {
	switch k {
	case Syntax:
		return "YAML syntax error"
	case Empty:
		return "empty YAML document"
	case TooDense:
		return "YAML document too dense"
	case Panic:
		return "unreadable YAML"
	case SecondDocument:
		return "a second YAML document"
	case Alias:
		return "YAML alias"
	case NotMapping:
		return "not a YAML mapping"
	case NonScalarKey:
		return "a key that is not a single value"
	case NonStringKey:
		return "a key that is not text"
	case MergeKey:
		return "a YAML merge key (<<)"
	case DuplicateKey:
		return "a duplicate key"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Step is one step of the path from the root of a document to a node: into
// the value of the mapping key Key, or, when Key is nil, into item Index of
// a list.
type Step struct {
	Key   *yaml.Node
	Index int
}

// Error is a problem with a YAML document.
type Error struct {
	Kind Kind
	// Line and Column locate the problem, counting from 1; 0 when unknown
	// (Column is always 0 for Syntax).
	Line, Column int
	// Msg is the YAML library's message for Syntax, the panic's value for
	// Panic; empty otherwise.
	Msg string
	// Node is the node concerned, nil when there is none (Syntax, Empty,
	// TooDense, Panic).
	Node *yaml.Node
	// Path leads to Node, for Alias.
	Path []Step
	// First is the line of the first of two equal keys, for DuplicateKey.
	First int
	// Values is the estimated number of values, for TooDense.
	Values int
}

// Error formats e as "line N: KIND: DETAIL", without what is unknown.
func (e *Error) Error() string {
	msg := e.Kind.String()
	switch e.Kind {
	case Syntax, Panic:
		msg += ": " + e.Msg
	case TooDense:
		msg += fmt.Sprintf(" (some %d values; at most %d are read)", e.Values, MaxValues)
	case Alias, DuplicateKey, NonStringKey:
		if e.Node != nil {
			msg += " " + textsafe.Quote(e.Node.Value)
		}
		if e.Kind == DuplicateKey {
			msg += fmt.Sprintf(" (first at line %d)", e.First)
		}
	}
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, msg)
	}
	return msg
}

// nodeError returns an *Error of kind k at n.
func nodeError(k Kind, n *yaml.Node) *Error {
	return &Error{Kind: k, Line: n.Line, Column: n.Column, Node: n}
}

// Errors returns the *Errors in err: err itself, or those joined in it.
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var out []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, Errors(e)...)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		out = append(out, e)
	}
	return out
}

// AliasMode says what a Reader does with aliases (*name).
type AliasMode int

const (
	// ResolveAliases accepts aliases: Reader.Mapping resolves them in its
	// keys and values, reading each mapping once; see [Deref].
	ResolveAliases AliasMode = iota
	// RefuseAliases reports every alias of the document as an error (of
	// kind Alias) in Reader.Parse; Reader.Mapping then leaves alias values
	// as they are and skips alias keys. Anchors alone are accepted.
	RefuseAliases
)

// Options are the rules of a Reader.
type Options struct {
	// Aliases says whether aliases are resolved or refused.
	Aliases AliasMode
	// StringKeys refuses mapping keys that are scalars but not text (1:,
	// true:, null:, a date, a tagged value): the user means text, and a
	// quoted key says so.
	StringKeys bool

	// decode, if set, replaces the YAML library's Decode: a hook for
	// tests.
	decode func(dec *yaml.Decoder, n *yaml.Node) error
}

// Reader reads one document with one set of options. It remembers the
// mappings it read, so that a mapping shared by many aliases is read once:
// use one Reader per document. It is not safe for concurrent use.
type Reader struct {
	opts Options
	maps map[*yaml.Node]mappingResult
}

type mappingResult struct {
	m   *Mapping
	err error
}

// NewReader returns a Reader following opts.
func NewReader(opts Options) *Reader {
	return &Reader{opts: opts, maps: map[*yaml.Node]mappingResult{}}
}

// Parse returns the root node of the one YAML document in data.
//
// Every error is an *Error, or several joined with errors.Join (see
// [Errors]). When the first document parses, its root is returned even
// with an error, so that a caller may go on and report every problem:
// that is the case for SecondDocument, a Syntax error after the first
// document, and Alias. Other errors come with a nil root.
func (r *Reader) Parse(data []byte) (root *yaml.Node, err error) {
	if n := valueBound(data); n > MaxValues {
		return nil, &Error{Kind: TooDense, Values: n}
	}
	defer func() {
		// The YAML library reports errors by panicking and recovering;
		// should one escape it, it is still only a bad document.
		if v := recover(); v != nil {
			root, err = nil, &Error{Kind: Panic, Msg: fmt.Sprint(v)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := r.decode(dec, &doc); err != nil {
		if err == io.EOF {
			return nil, &Error{Kind: Empty}
		}
		return nil, r.syntaxError(data, err)
	}
	var errs []error
	var extra yaml.Node
	switch err := r.decode(dec, &extra); {
	case err == io.EOF:
	case err != nil:
		errs = append(errs, r.syntaxError(data, err))
	default:
		errs = append(errs, nodeError(SecondDocument, &extra))
	}
	if r.opts.Aliases == RefuseAliases {
		errs = append(errs, aliases(&doc, nil, nil)...)
	}
	if len(doc.Content) == 0 {
		return nil, errors.Join(append(errs, &Error{Kind: Empty})...)
	}
	return doc.Content[0], errors.Join(errs...)
}

func (r *Reader) decode(dec *yaml.Decoder, n *yaml.Node) error {
	if r.opts.decode != nil {
		return r.opts.decode(dec, n)
	}
	return dec.Decode(n)
}

// valueBound returns an upper bound, roughly, of the number of nodes the
// YAML library makes of data: every node but the first follows a line
// break or an indicator (":", "-", "[", "{", "," or "?"); a "," or a "?"
// may make two (a key and its implicit null value).
func valueBound(data []byte) int {
	n := 1
	for _, c := range []byte("\n:-[{") {
		n += bytes.Count(data, []byte{c})
	}
	for _, c := range []byte(",?") {
		n += 2 * bytes.Count(data, []byte{c})
	}
	return n
}

// aliases returns an Alias error for every alias under n, which path leads
// to. The tree is walked as written (aliases not followed): linear.
func aliases(n *yaml.Node, path []Step, out []error) []error {
	switch n.Kind {
	case yaml.AliasNode:
		e := nodeError(Alias, n)
		e.Path = path
		return append(out, e)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = aliases(n.Content[i], path, out)
			out = aliases(n.Content[i+1], appendStep(path, Step{Key: n.Content[i]}), out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			out = aliases(c, appendStep(path, Step{Index: i}), out)
		}
	default:
		for _, c := range n.Content {
			out = aliases(c, path, out)
		}
	}
	return out
}

// appendStep returns path and s in a new slice, so that sibling paths
// never share an array.
func appendStep(path []Step, s Step) []Step {
	return append(path[:len(path):len(path)], s)
}

// errorMsg splits the messages of the YAML library.
var errorMsg = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// splitError splits an error of the YAML library into its message and line
// (0 when it gives none).
func splitError(err error) (msg string, line int) {
	msg = err.Error()
	if m := errorMsg.FindStringSubmatch(msg); m != nil {
		msg = m[2]
		line, _ = strconv.Atoi(m[1])
	}
	return msg, line
}

// syntaxError returns the Syntax error of err, the YAML library's error on
// data, at the first line whose end makes data fail that way.
func (r *Reader) syntaxError(data []byte, err error) *Error {
	msg, line := splitError(err)
	return &Error{Kind: Syntax, Line: r.firstBadLine(data, msg, line), Msg: msg}
}

// firstBadLine returns the smallest n such that the first n lines of data
// fail to parse with the message msg, the YAML library's error on data; 0
// if it finds none. A prefix that fails otherwise (one that cuts a quoted
// text or a [...] in two) counts as one that parses.
//
// hint is the line the library gave (0 for none). It is right, or one line
// off (the library counts some lines from 0), for most errors; it is far
// off for some (an unclosed [...] is reported where it opens), and missing
// for others (an unknown anchor, an error on line 1). In documents of at
// most MaxBisect bytes, the hint and its neighbours are tried first, then
// the line is found by bisection. In larger ones, one prefix is parsed:
// the hint's (kept if it fails so, else moved down a line), or line 1 when
// there is no hint (else the line stays unknown).
func (r *Reader) firstBadLine(data []byte, msg string, hint int) int {
	var ends []int // ends[i] is the end of line i+1
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	n := len(ends)
	fails := func(k int) bool { return r.parseError(data[:ends[k-1]]) == msg }
	hint = min(hint, n)
	if len(data) > MaxBisect {
		// One parse at most: line 1, or the hint.
		switch {
		case hint == 0:
			if fails(1) {
				return 1
			}
			return 0
		case fails(hint):
			return hint
		}
		return min(hint+1, n) // the library counts some lines from 0
	}
	if !fails(n) {
		return hint
	}
	lo, hi := 0, n // the first lo lines do not fail so, the first hi do
	switch {
	case hint == 0:
		if fails(1) {
			return 1
		}
		lo = 1
	case fails(hint):
		if hint == 1 || !fails(hint-1) {
			return hint
		}
		hi = hint - 1
	case hint < n && fails(hint+1):
		return hint + 1
	default:
		lo = hint + 1
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// parseError returns the message of the first error of the YAML library on
// data, without its line; "" when data parses. A panic is an error, its
// value the message.
func (r *Reader) parseError(data []byte) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		switch err := r.decode(dec, &n); {
		case err == io.EOF:
			return ""
		case err != nil:
			msg, _ := splitError(err)
			return msg
		}
	}
}

// Entry is one entry of a mapping.
type Entry struct {
	// Key is the key's text.
	Key string
	// KeyNode is the key as written.
	KeyNode *yaml.Node
	// Value is the value, its alias resolved under ResolveAliases.
	Value *yaml.Node
	// At is the value as written (an alias, maybe), for its line.
	At *yaml.Node
}

// Mapping is the entries of a mapping node, in document order, each key
// once.
type Mapping struct {
	entries []Entry
	index   map[string]int
}

// Entries returns the entries in document order. The slice must not be
// modified.
func (m *Mapping) Entries() []Entry { return m.entries }

// Get returns the entry of key.
func (m *Mapping) Get(key string) (Entry, bool) {
	i, ok := m.index[key]
	if !ok {
		return Entry{}, false
	}
	return m.entries[i], true
}

// Has reports whether the mapping has key.
func (m *Mapping) Has(key string) bool {
	_, ok := m.index[key]
	return ok
}

// Mapping returns the entries of the mapping node n (an alias of one under
// ResolveAliases). Keys must be scalars (text, under Options.StringKeys),
// distinct, and no merge key (<<). A refused key is left out, and reported:
// the error joins one *Error for each (see [Errors]), in document order,
// and comes with the Mapping of the other entries. Each node is read once:
// later calls return the same result.
func (r *Reader) Mapping(n *yaml.Node) (*Mapping, error) {
	if r.opts.Aliases == ResolveAliases {
		n = Deref(n)
	}
	if res, ok := r.maps[n]; ok {
		return res.m, res.err
	}
	m := &Mapping{index: make(map[string]int, len(n.Content)/2)}
	var errs []error
	if n.Kind != yaml.MappingNode {
		errs = append(errs, nodeError(NotMapping, n))
	} else {
		errs = r.readMapping(n, m)
	}
	res := mappingResult{m, errors.Join(errs...)}
	r.maps[n] = res
	return res.m, res.err
}

func (r *Reader) readMapping(n *yaml.Node, m *Mapping) []error {
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		kAt, vAt := n.Content[i], n.Content[i+1]
		k, v := kAt, vAt
		if r.opts.Aliases == ResolveAliases {
			k, v = Deref(kAt), Deref(vAt)
		} else if kAt.Kind == yaml.AliasNode {
			continue // reported by Parse
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			errs = append(errs, nodeError(NonScalarKey, kAt))
			continue
		case k.Tag == "!!merge":
			errs = append(errs, nodeError(MergeKey, kAt))
			continue
		case r.opts.StringKeys && k.Tag != "!!str":
			errs = append(errs, nodeError(NonStringKey, kAt))
			continue
		}
		if prev, dup := m.index[k.Value]; dup {
			e := nodeError(DuplicateKey, kAt)
			e.First = m.entries[prev].KeyNode.Line
			errs = append(errs, e)
			continue
		}
		m.index[k.Value] = len(m.entries)
		m.entries = append(m.entries, Entry{Key: k.Value, KeyNode: kAt, Value: v, At: vAt})
	}
	return errs
}

// Deref resolves an alias to the node it refers to, once: the node is not
// copied, so a caller that walks what aliases refer to reads each node
// once if it skips the nodes it has read. The YAML library never makes an
// alias of an alias; the bound is there all the same.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is a null scalar: empty, ~ or null.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// Scalar returns the text of n as written when n is a scalar that is not
// null, whatever its tag ("md5: 123" is the text "123"); ok is false for
// null and for mappings, lists and aliases.
func Scalar(n *yaml.Node) (s string, ok bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// DescribeNode names the kind of n for messages: "a mapping", "a list",
// "an alias", "a document", "empty" or "a single value".
func DescribeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return "a single value"
	}
	return "not a value"
}

// DescribeValue names n for messages with what it holds: the quoted text
// of a string (clipped), "the number 3", "the boolean true", "the date
// 2024-01-01", "an empty value", "a value tagged !x", or the kind of a
// mapping, list or alias as DescribeNode names it.
func DescribeValue(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return DescribeNode(n)
	}
	switch n.Tag {
	case "!!null":
		return "an empty value"
	case "!!bool":
		return "the boolean " + textsafe.Clip(n.Value)
	case "!!int", "!!float":
		return "the number " + textsafe.Clip(n.Value)
	case "!!str":
		return textsafe.Quote(n.Value)
	case "!!timestamp":
		return "the date " + textsafe.Clip(n.Value)
	}
	return "a value tagged " + textsafe.Clip(textsafe.Escape(n.Tag))
}
