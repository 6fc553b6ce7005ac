package lockfile

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/condasigs/condasigs/internal/textsafe"
	"go.yaml.in/yaml/v3"
)

// yamlFile reads the YAML lock-file formats.
type yamlFile struct {
	name string
	// maps caches the mappings read, so that a mapping referred to by many
	// aliases is read once: the work stays linear in the size of the file.
	maps map[*yaml.Node]map[string]keyValue
}

func (y *yamlFile) errorf(n *yaml.Node, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return lockErr(y.name, line, format, args...)
}

// maxYAMLValues bounds the values of a YAML lock file, as counted by
// yamlValueBound. The YAML library builds a node of some 250 bytes for
// every value before anything else is looked at, so a dense document of a
// few MiB ({a,a,a,...}) could otherwise take gigabytes. Generated lock files
// count about one per 11 bytes: 4,000,000 is some 44 MiB of them, more than
// MaxSize; and 4,000,000 nodes take about 1 GiB.
const maxYAMLValues = 4_000_000

// yamlValueBound returns an upper bound, roughly, of the number of nodes
// the YAML library makes of data: every node but the first follows a line
// break or an indicator (":", "-", "[", "{", "," or "?"); a "," or a "?"
// may make two (a key and its implicit null value).
func yamlValueBound(data []byte) int {
	n := 1
	for _, c := range []byte("\n:-[{") {
		n += bytes.Count(data, []byte{c})
	}
	for _, c := range []byte(",?") {
		n += 2 * bytes.Count(data, []byte{c})
	}
	return n
}

// parse returns the root node of the one YAML document in data.
func (y *yamlFile) parse(data []byte) (root *yaml.Node, err error) {
	if n := yamlValueBound(data); n > maxYAMLValues {
		return nil, lockErr(y.name, 0, "the file is too dense a YAML document for a lock file (some %d values; this tool reads at most %d): it would take gigabytes of memory to read; check the file", n, maxYAMLValues)
	}
	defer func() {
		// The YAML library reports errors by panicking and recovering;
		// should one escape it, it is still only a bad file.
		if r := recover(); r != nil {
			root, err = nil, lockErr(y.name, 0, "unreadable YAML (%v); %w", r, errUnsupported)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, lockErr(y.name, 0, "the file is empty; %w", errUnsupported)
		}
		return nil, y.syntax(data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
	case err != nil:
		return nil, y.syntax(data, err)
	default:
		return nil, y.errorf(&extra, "a second YAML document starts here: a lock file is one document; the file is damaged or two files were joined")
	}
	if len(doc.Content) == 0 {
		return nil, lockErr(y.name, 0, "the file is empty; %w", errUnsupported)
	}
	return doc.Content[0], nil
}

// yamlErrorMsg splits the messages of the YAML library.
var yamlErrorMsg = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// maxBisect bounds the documents whose syntax errors are located by
// bisection: each step parses a prefix of the document.
const maxBisect = 1 << 20

// syntax reports a YAML syntax error. A file that is no YAML at all is not
// in any supported format, so the error says which formats are.
func (y *yamlFile) syntax(data []byte, err error) error {
	msg, line := splitYAMLError(err)
	// The library's line numbers are off by one for some errors, and
	// missing for others (those of line 1 among them): find the shortest
	// prefix of the document that fails the same way.
	switch {
	case len(data) <= maxBisect:
		if l := firstBadLine(data, msg); l > 0 {
			line = l
		}
	case line == 0:
		if first, _ := nextLine(data); yamlError(first) == msg {
			line = 1
		}
	case yamlError(prefixLines(data, line)) != msg:
		line++ // the library counts some lines from 0
	}
	return &Error{File: y.name, Line: line, Err: fmt.Errorf("YAML syntax error: %s; %w", msg, errUnsupported)}
}

// splitYAMLError splits an error of the YAML library into its message and
// line (0 when it gives none).
func splitYAMLError(err error) (msg string, line int) {
	msg = err.Error()
	if m := yamlErrorMsg.FindStringSubmatch(msg); m != nil {
		msg = m[2]
		line, _ = strconv.Atoi(m[1])
	}
	return msg, line
}

// firstBadLine returns the smallest n such that the first n lines of data
// fail to parse with the message msg, by bisection; 0 if there is none. A
// prefix that fails otherwise (one that cuts a quoted text or a [...] in
// two) counts as one that parses.
func firstBadLine(data []byte, msg string) int {
	var ends []int // ends[i] is the end of line i+1
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	if yamlError(data) != msg {
		return 0
	}
	lo, hi := 0, len(ends) // the first lo lines do not fail so, the first hi do
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if yamlError(data[:ends[mid-1]]) == msg {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// prefixLines returns the first n lines of data.
func prefixLines(data []byte, n int) []byte {
	end := 0
	for ; n > 0 && end < len(data); n-- {
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			return data
		}
		end += i + 1
	}
	return data[:end]
}

// yamlError returns the message of the first error of the YAML library
// on data, without its line; "" when data parses.
func yamlError(data []byte) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		switch err := dec.Decode(&n); {
		case err == io.EOF:
			return ""
		case err != nil:
			msg, _ := splitYAMLError(err)
			return msg
		}
	}
}

// dispatch tells the YAML formats apart and parses root.
func (y *yamlFile) dispatch(root *yaml.Node) (*File, error) {
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return nil, lockErr(y.name, root.Line, "the document is %s, not a lock file; %w", describeNode(root), errUnsupported)
	}
	top, err := y.mapping(root)
	if err != nil {
		return nil, err
	}
	_, hasPackage := top["package"]
	_, hasPackages := top["packages"]
	_, hasEnvironments := top["environments"]
	_, hasVersion := top["version"]
	switch {
	case hasPackage && hasPackages:
		return nil, y.errorf(top["packages"].k, "the file has both package: (as a conda-lock.yml) and packages: (as a pixi.lock); %w", errUnsupported)
	case hasPackage:
		return y.parseCondaLock(top)
	case hasPackages && (hasEnvironments || hasVersion):
		return y.parsePixiLock(top)
	}
	return nil, lockErr(y.name, root.Line, "a mapping with neither package: (conda-lock.yml) nor packages: with environments: or version: (pixi.lock) is not a lock file; %w", errUnsupported)
}

// keyValue is one entry of a YAML mapping.
type keyValue struct {
	k  *yaml.Node // the key as written
	v  *yaml.Node // the value, aliases resolved
	at *yaml.Node // the value as written (an alias, maybe), for lines
}

// mapping returns the entries of mapping node n by key, aliases resolved.
// Keys must be distinct scalars; merge keys (<<) are refused, since YAML
// readers disagree on them.
func (y *yamlFile) mapping(n *yaml.Node) (map[string]keyValue, error) {
	if m, ok := y.maps[n]; ok {
		return m, nil
	}
	out := make(map[string]keyValue, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode:
			return nil, y.errorf(n.Content[i], "a key is %s: lock files have text keys only", describeNode(k))
		case k.Tag == "!!merge":
			return nil, y.errorf(n.Content[i], "a YAML merge key (<<): lock-file readers disagree on them; write the fields out in full")
		}
		if prev, dup := out[k.Value]; dup {
			return nil, y.errorf(n.Content[i], "the key %s appears twice (first at line %d): readers disagree on which value wins; keep one", textsafe.Quote(k.Value), prev.k.Line)
		}
		out[k.Value] = keyValue{k: n.Content[i], v: v, at: n.Content[i+1]}
	}
	if y.maps == nil {
		y.maps = map[*yaml.Node]map[string]keyValue{}
	}
	y.maps[n] = out
	return out, nil
}

// str returns the text of the value of key in m; present is false when the
// key is missing or null.
func (y *yamlFile) str(m map[string]keyValue, key string) (s string, present bool, err error) {
	kv, ok := m[key]
	if !ok {
		return "", false, nil
	}
	switch {
	case kv.v.Kind == yaml.ScalarNode && kv.v.Tag == "!!null":
		return "", false, nil
	case kv.v.Kind != yaml.ScalarNode:
		return "", false, y.errorf(kv.at, "%s is %s: it must be text", key, describeNode(kv.v))
	}
	return kv.v.Value, true, nil
}

// version returns the lock-file version in m.
func (y *yamlFile) version(m map[string]keyValue, format string, supported string) (int, *yaml.Node, error) {
	kv, ok := m["version"]
	if !ok {
		return 0, nil, lockErr(y.name, 0, "the %s has no version: key; this tool reads versions %s", format, supported)
	}
	var v int
	if kv.v.Kind != yaml.ScalarNode || kv.v.Tag != "!!int" || kv.v.Decode(&v) != nil {
		return 0, nil, y.errorf(kv.at, "version is %s, not a whole number: this tool reads %s versions %s", describeValue(kv.v), format, supported)
	}
	return v, kv.at, nil
}

// deref resolves aliases. The YAML library never makes an alias of an
// alias; the bound is there all the same.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// describeNode names the kind of n for messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return "a single value"
	}
	return "not a value"
}

// describeValue names n for messages, with its text when it is a scalar.
func describeValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return textsafe.Quote(n.Value)
	}
	return describeNode(n)
}

// eachEntry calls fn with each entry of the list top[key] (the packages of
// a lock file of the given format), as listed (item, maybe an alias) and as
// a mapping (entry), once each: an alias of an entry already read is
// skipped. A null list has no entries.
func (y *yamlFile) eachEntry(top map[string]keyValue, key, format string, fn func(item, entry *yaml.Node) error) error {
	list := top[key].v
	switch {
	case list.Kind == yaml.ScalarNode && list.Tag == "!!null":
		return nil
	case list.Kind != yaml.SequenceNode:
		return y.errorf(top[key].at, "%s: is %s: in a %s it is the list of packages", key, describeNode(list), format)
	}
	done := make(map[*yaml.Node]bool, len(list.Content))
	for _, item := range list.Content {
		entry := deref(item)
		if done[entry] { // an alias of an entry read already
			continue
		}
		done[entry] = true
		if entry.Kind != yaml.MappingNode {
			return y.errorf(item, "an entry of %s: is %s: each is a mapping that describes one package", key, describeNode(entry))
		}
		if err := fn(item, entry); err != nil {
			return err
		}
	}
	return nil
}
