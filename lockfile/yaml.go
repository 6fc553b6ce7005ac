package lockfile

import (
	"errors"
	"fmt"

	"github.com/condasigs/condasigs/internal/strictyaml"
	"github.com/condasigs/condasigs/internal/textsafe"
	"go.yaml.in/yaml/v3"
)

// yamlFile reads the YAML lock-file formats.
type yamlFile struct {
	name string
	// r reads the document; aliases are resolved, each mapping read once,
	// so that the work stays linear in the size of the file.
	r *strictyaml.Reader
	// platforms are a pixi.lock's platforms by package location (see
	// pixiPlatforms), refs the environments' conda: references, in file
	// order, and described the locations its packages: entries describe.
	platforms map[string][]string
	refs      []pixiRef
	// dir is the directory of the file, absolute, when known: a pixi.lock
	// names local package files relative to it.
	dir       string
	described map[string]bool
}

// pixiRef is a pixi.lock environment's reference to a conda package.
type pixiRef struct {
	location string
	node     *yaml.Node
}

func newYAMLFile(name string) *yamlFile {
	return &yamlFile{name: name, r: strictyaml.NewReader(strictyaml.Options{Aliases: strictyaml.ResolveAliases})}
}

func (y *yamlFile) errorf(n *yaml.Node, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return lockErr(y.name, line, format, args...)
}

// parse returns the root node of the one YAML document in data.
func (y *yamlFile) parse(data []byte) (*yaml.Node, error) {
	root, err := y.r.Parse(data)
	if err == nil {
		return root, nil
	}
	var e *strictyaml.Error
	if !errors.As(err, &e) {
		return nil, lockErr(y.name, 0, "unreadable YAML (%v); %w", err, errUnsupported)
	}
	switch e.Kind {
	case strictyaml.TooDense:
		return nil, lockErr(y.name, 0, "the file is too dense a YAML document for a lock file (some %d values; this tool reads at most %d): it would take gigabytes of memory to read; check the file", e.Values, strictyaml.MaxValues)
	case strictyaml.Empty:
		return nil, lockErr(y.name, 0, "the file is empty; %w", errUnsupported)
	case strictyaml.Syntax:
		// A file that is no YAML at all is not in any supported format, so
		// the error says which formats are.
		return nil, &Error{File: y.name, Line: e.Line, Err: fmt.Errorf("YAML syntax error: %s; %w", e.Msg, errUnsupported)}
	case strictyaml.SecondDocument:
		return nil, y.errorf(e.Node, "a second YAML document starts here: a lock file is one document; the file is damaged or two files were joined")
	}
	return nil, lockErr(y.name, e.Line, "unreadable YAML (%s); %w", e.Msg, errUnsupported)
}

// dispatch tells the YAML formats apart and parses root.
func (y *yamlFile) dispatch(root *yaml.Node) (*File, error) {
	root = strictyaml.Deref(root)
	if root.Kind != yaml.MappingNode {
		return nil, lockErr(y.name, root.Line, "the document is %s, not a lock file; %w", strictyaml.DescribeNode(root), errUnsupported)
	}
	top, err := y.mapping(root)
	if err != nil {
		return nil, err
	}
	switch {
	case top.Has("package") && top.Has("packages"):
		kv, _ := top.Get("packages")
		return nil, y.errorf(kv.KeyNode, "the file has both package: (as a conda-lock.yml) and packages: (as a pixi.lock); %w", errUnsupported)
	case top.Has("package"):
		return y.parseCondaLock(top)
	case top.Has("packages") && (top.Has("environments") || top.Has("version")):
		return y.parsePixiLock(top)
	}
	return nil, lockErr(y.name, root.Line, "a mapping with neither package: (conda-lock.yml) nor packages: with environments: or version: (pixi.lock) is not a lock file; %w", errUnsupported)
}

// mapping returns the entries of mapping node n, aliases resolved. Keys
// must be distinct scalars; merge keys (<<) are refused, since YAML
// readers disagree on them. The first problem is reported.
func (y *yamlFile) mapping(n *yaml.Node) (*strictyaml.Mapping, error) {
	m, err := y.r.Mapping(n)
	errs := strictyaml.Errors(err)
	if len(errs) == 0 {
		return m, nil
	}
	e := errs[0]
	switch e.Kind {
	case strictyaml.NonScalarKey:
		return nil, y.errorf(e.Node, "a key is %s: lock files have text keys only", strictyaml.DescribeNode(strictyaml.Deref(e.Node)))
	case strictyaml.MergeKey:
		return nil, y.errorf(e.Node, "a YAML merge key (<<): lock-file readers disagree on them; write the fields out in full")
	case strictyaml.DuplicateKey:
		return nil, y.errorf(e.Node, "the key %s appears twice (first at line %d): readers disagree on which value wins; keep one", textsafe.Quote(strictyaml.Deref(e.Node).Value), e.First)
	}
	return nil, y.errorf(e.Node, "%v", e)
}

// str returns the text of the value of key in m; present is false when the
// key is missing or null.
func (y *yamlFile) str(m *strictyaml.Mapping, key string) (s string, present bool, err error) {
	kv, ok := m.Get(key)
	switch {
	case !ok || strictyaml.IsNull(kv.Value):
		return "", false, nil
	case kv.Value.Kind != yaml.ScalarNode:
		return "", false, y.errorf(kv.At, "%s is %s: it must be text", key, strictyaml.DescribeNode(kv.Value))
	}
	s, _ = strictyaml.Scalar(kv.Value)
	return s, true, nil
}

// at returns the value of key in m as written (an alias, maybe), for its
// line; nil when m has no key.
func at(m *strictyaml.Mapping, key string) *yaml.Node {
	kv, _ := m.Get(key)
	return kv.At
}

// version returns the lock-file version in m.
func (y *yamlFile) version(m *strictyaml.Mapping, format string, supported string) (int, *yaml.Node, error) {
	kv, ok := m.Get("version")
	if !ok {
		return 0, nil, lockErr(y.name, 0, "the %s has no version: key; this tool reads versions %s", format, supported)
	}
	var v int
	if kv.Value.Kind != yaml.ScalarNode || kv.Value.Tag != "!!int" || kv.Value.Decode(&v) != nil {
		return 0, nil, y.errorf(kv.At, "version is %s, not a whole number: this tool reads %s versions %s", strictyaml.DescribeValue(kv.Value), format, supported)
	}
	return v, kv.At, nil
}

// eachEntry calls fn with each entry of the list top[key] (the packages of
// a lock file of the given format), as listed (item, maybe an alias) and as
// a mapping (entry), once each: an alias of an entry already read is
// skipped. A null list has no entries.
func (y *yamlFile) eachEntry(top *strictyaml.Mapping, key, format string, fn func(item, entry *yaml.Node) error) error {
	kv, _ := top.Get(key)
	list := kv.Value
	switch {
	case strictyaml.IsNull(list):
		return nil
	case list.Kind != yaml.SequenceNode:
		return y.errorf(kv.At, "%s: is %s: in a %s it is the list of packages", key, strictyaml.DescribeNode(list), format)
	}
	done := make(map[*yaml.Node]bool, len(list.Content))
	for _, item := range list.Content {
		entry := strictyaml.Deref(item)
		if done[entry] { // an alias of an entry read already
			continue
		}
		done[entry] = true
		if entry.Kind != yaml.MappingNode {
			return y.errorf(item, "an entry of %s: is %s: each is a mapping that describes one package", key, strictyaml.DescribeNode(entry))
		}
		if err := fn(item, entry); err != nil {
			return err
		}
	}
	return nil
}
