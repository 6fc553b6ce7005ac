package policy

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/condasigs/condasigs/internal/nearest"
	"github.com/condasigs/condasigs/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// maxConfigFileSize bounds the configuration files LoadConfig reads: 1 MiB,
// far more than any policy needs.
const maxConfigFileSize = 1 << 20

// ConfigError is one problem in a configuration file.
type ConfigError struct {
	// File is the name given to ParseConfig, or the path given to
	// LoadConfig.
	File string
	// Line and Column locate the problem, counting from 1; 0 when unknown
	// (Column is unknown for YAML syntax errors).
	Line, Column int
	// Field is the dotted path of the setting concerned, e.g.
	// "attestations.conda-forge.require" or
	// "attestations.conda-forge.trusted_identities[0].issuer"; empty for
	// problems of the document as a whole. Channel URLs in it are redacted.
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats e as "FILE:LINE:COL: FIELD: MSG", leaving out the parts
// that are unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadConfig reads and parses the configuration file at path (see
// [ParseConfig]). Files larger than maxConfigFileSize are refused.
func LoadConfig(path string) (Config, error) {
	data, err := localfile.ReadFile(path, maxConfigFileSize)
	if errors.Is(err, localfile.ErrTooLarge) {
		return Config{}, &ConfigError{File: path, Msg: fmt.Sprintf(
			"the file is larger than %d bytes (1 MiB), far more than a policy configuration needs: check the path", maxConfigFileSize)}
	}
	if err != nil {
		return Config{}, fmt.Errorf("policy: configuration: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a configuration document, YAML or JSON (JSON is
// YAML), in this form:
//
//	channel_alias: https://conda.anaconda.org   # optional
//	attestations:                # one entry per channel name or URL; "*" is the catch-all
//	  conda-forge:
//	    enabled: true            # required
//	    require: error           # required: error, warn or ignore
//	    trusted_identities:      # required; [] only when enabled is false
//	      - identity: "https://github.com/conda-forge/*"   # or identity_regex
//	        issuer: github       # required: URL, shorthand, or any
//	        source_repository: "https://github.com/conda-forge/*"
//	        repository_id: "12345"
//	        owner_id: "6789"
//	        source_ref: refs/heads/main
//	        build_signer: "https://github.com/conda-forge/*"
//	        runner_environment: github-hosted
//	    channel_mismatch: error  # optional: error, warn or ignore
//	    mirrors: [https://prefix.dev/conda-forge]   # optional
//	    unknown_predicate: ignore                   # optional: error, warn or ignore
//	    pin: warn                # optional: error or warn; absent turns pinning off
//
// Nothing is defaulted silently: each channel entry states enabled, require
// and trusted_identities. The catch-all is written one way, as the "*"
// entry of attestations:, at most once; it becomes [Config.Default] (a
// top-level default: key is refused, with that hint). Unknown and
// duplicate keys, values of the wrong type, YAML aliases and further
// documents are refused. The result is also
// checked with [CompileConfig]. Issuer shorthands stay as written.
//
// name is used in messages. Every problem found is reported, each as a
// *[ConfigError], joined with errors.Join; on error the Config is empty.
func ParseConfig(name string, data []byte) (Config, error) {
	p := &configParser{
		file: name,
		keys: map[string]*yaml.Node{},
		r:    strictyaml.NewReader(strictyaml.Options{Aliases: strictyaml.RefuseAliases, StringKeys: true}),
	}
	cfg, check := p.parse(data)
	if check != nil {
		p.compile(*check)
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *ConfigError) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

type configParser struct {
	file  string
	alias string // the channel alias for checking channel names
	errs  []*ConfigError
	keys  map[string]*yaml.Node // channel entry key, as written -> its node
	// r reads the document: aliases refused (expanding them can take
	// memory exponential in the file's size), keys text.
	r *strictyaml.Reader
}

func (p *configParser) errorf(n *yaml.Node, field, format string, args ...any) {
	e := &ConfigError{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// parse returns the configuration, and the part of it without problems
// (nil when there is none worth checking further).
func (p *configParser) parse(data []byte) (Config, *Config) {
	root, err := p.r.Parse(data)
	for _, e := range strictyaml.Errors(err) {
		p.yamlError(data, e)
	}
	if root == nil || root.Kind == yaml.AliasNode {
		return Config{}, nil
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		p.errorf(root, "", "the configuration is empty: add an attestations: mapping with one entry per channel")
		return Config{}, nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "the configuration must be a mapping with an attestations: key, not %s", strictyaml.DescribeValue(root))
		return Config{}, nil
	}
	var cfg Config
	var attestations *yaml.Node
	var attestationsKey *yaml.Node
	for _, kv := range p.mapping(root, "", topLevelKeys) {
		switch kv.key {
		case "channel_alias":
			if s, ok := p.str(kv.v, "channel_alias", "a URL such as https://conda.anaconda.org"); ok {
				if _, err := conda.ChannelURL("conda-forge", s); err != nil || !strings.Contains(s, "://") {
					p.errorf(kv.v, "channel_alias", "%q is not a URL: write the URL channel names are expanded with, such as https://conda.anaconda.org", redactChannel(s))
				} else {
					cfg.ChannelAlias = s
					p.alias = s
				}
			}
		case "attestations":
			attestations, attestationsKey = kv.v, kv.k
		}
	}
	if attestations == nil {
		p.errorf(root, "attestations", "missing: add an attestations: mapping with one entry per channel (a name such as conda-forge, or a URL), and optionally a \"*\" entry for all other channels")
		return Config{}, nil
	}
	if !p.kind(attestations, yaml.MappingNode, "attestations", "a mapping of channel names or URLs to their policies") {
		return Config{}, nil
	}
	if len(attestations.Content) == 0 {
		p.errorf(attestationsKey, "attestations", "no channel entries: add one per channel to verify, or a \"*\" entry for all channels; an empty configuration would check nothing")
		return Config{}, nil
	}
	check := Config{ChannelAlias: cfg.ChannelAlias}
	for _, kv := range p.mapping(attestations, "attestations", nil) {
		before := len(p.errs)
		field := join("attestations", kv.key)
		cp := p.channel(kv.k, kv.v, kv.key, field)
		clean := len(p.errs) == before
		p.keys[kv.key] = kv.k
		if kv.key == catchAll {
			cfg.Default = &cp
			if clean {
				check.Default = &cp
			}
			continue
		}
		cfg.Channels = append(cfg.Channels, cp)
		if clean {
			check.Channels = append(check.Channels, cp)
		}
	}
	return cfg, &check
}

var topLevelKeys = []string{"channel_alias", "attestations"}

var channelKeys = []string{"enabled", "require", "trusted_identities", "channel_mismatch", "mirrors", "unknown_predicate", "pin"}

var identityKeys = []string{"identity", "identity_regex", "issuer", "source_repository", "repository_id", "owner_id", "source_ref", "build_signer", "runner_environment"}

func (p *configParser) channel(k, v *yaml.Node, key, field string) ChannelPolicy {
	cp := ChannelPolicy{Channel: key}
	if key != catchAll {
		if _, err := conda.ChannelURL(key, p.alias); err != nil {
			p.errorf(k, field, "not a channel: %v; write a channel name such as conda-forge, a URL such as https://prefix.dev/my-channel, or \"*\" for all other channels", err)
		}
	}
	if !p.kind(v, yaml.MappingNode, field, "a mapping with enabled, require and trusted_identities") {
		return cp
	}
	seen := map[string]bool{}
	var identities *yaml.Node
	for _, kv := range p.mapping(v, field, channelKeys) {
		f := field + "." + kv.key
		seen[kv.key] = true
		switch kv.key {
		case "enabled":
			cp.Enabled, _ = p.boolean(kv.v, f)
		case "require":
			cp.Require, _ = p.mode(kv.v, f, false)
		case "channel_mismatch":
			cp.ChannelMismatch, _ = p.mode(kv.v, f, false)
		case "unknown_predicate":
			cp.UnknownPredicate, _ = p.mode(kv.v, f, false)
		case "pin":
			cp.Pinning, _ = p.mode(kv.v, f, true)
		case "mirrors":
			cp.Mirrors = p.mirrors(kv.v, f, key)
		case "trusted_identities":
			identities = kv.v
			if p.kind(kv.v, yaml.SequenceNode, f, "a list of trusted identities, each with identity (or identity_regex) and issuer") {
				cp.Identities = []Identity{}
				for i, item := range kv.v.Content {
					if id, ok := p.identity(item, fmt.Sprintf("%s[%d]", f, i)); ok {
						cp.Identities = append(cp.Identities, id)
					}
				}
			}
		}
	}
	if !seen["enabled"] {
		p.errorf(k, field+".enabled", "missing: add enabled: true to verify this channel's packages, or enabled: false to skip them; there is no default")
	}
	if !seen["require"] {
		p.errorf(k, field+".require", "missing: add require: error (refuse packages without valid attestations), warn, or ignore; there is no default")
	}
	if !seen["trusted_identities"] {
		p.errorf(k, field+".trusted_identities", "missing: add trusted_identities: a list of the signers you trust, e.g. - {identity: \"https://github.com/ORG/*\", issuer: github}; [] only with enabled: false")
	} else if cp.Enabled && identities != nil && identities.Kind == yaml.SequenceNode && len(identities.Content) == 0 {
		p.errorf(identities, field+".trusted_identities", "an enabled channel needs at least one trusted identity: add the identity and issuer of the channel's publisher, or set enabled: false")
	}
	return cp
}

func (p *configParser) mirrors(n *yaml.Node, field, channel string) []string {
	if !p.kind(n, yaml.SequenceNode, field, "a list of channel URLs or names, e.g. [https://prefix.dev/conda-forge]") {
		return nil
	}
	if channel == catchAll && len(n.Content) > 0 {
		p.errorf(n, field, "the catch-all entry \"*\" cannot have mirrors: give the mirrored channel an entry of its own, or remove mirrors")
		return nil
	}
	out := []string{}
	urls := map[string]string{}
	if u, err := conda.ChannelURL(channel, p.alias); err == nil {
		urls[u] = "the channel itself"
	}
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		m, ok := p.str(item, f, "a channel URL or name")
		if !ok {
			continue
		}
		if m == catchAll {
			p.errorf(item, f, "a mirror cannot be \"*\": give the mirror's URL")
			continue
		}
		u, err := conda.ChannelURL(m, p.alias)
		if err != nil {
			p.errorf(item, f, "not a channel: %v; write a URL such as https://prefix.dev/my-channel or a channel name", err)
			continue
		}
		if prev, dup := urls[u]; dup {
			p.errorf(item, f, "%s is the same channel as %s: remove it", redactChannel(m), prev)
			continue
		}
		urls[u] = "mirror " + redactChannel(m)
		out = append(out, m)
	}
	return out
}

func (p *configParser) identity(n *yaml.Node, field string) (Identity, bool) {
	if !p.kind(n, yaml.MappingNode, field, `a mapping with identity (or identity_regex) and issuer, e.g. {identity: "https://github.com/ORG/*", issuer: github}`) {
		return Identity{}, false
	}
	before := len(p.errs)
	var id Identity
	for _, kv := range p.mapping(n, field, identityKeys) {
		f := field + "." + kv.key
		var dst *string
		expect := "a pattern (text, * matches any run of characters)"
		switch kv.key {
		case "identity":
			dst = &id.SAN
			expect = "a certificate identity pattern, e.g. https://github.com/ORG/*"
		case "identity_regex":
			dst, expect = &id.SANRegex, "a regular expression"
		case "issuer":
			dst, expect = &id.Issuer, "an issuer URL, a shorthand ("+shorthandList()+") or any"
		case "source_repository":
			dst = &id.SourceRepository
		case "repository_id":
			dst, expect = &id.RepositoryID, "a repository identifier"
		case "owner_id":
			dst, expect = &id.OwnerID, "an owner identifier"
		case "source_ref":
			dst = &id.SourceRef
		case "build_signer":
			dst = &id.BuildSigner
		case "runner_environment":
			dst, expect = &id.RunnerEnvironment, "a runner environment, e.g. github-hosted"
		}
		if (kv.key == "repository_id" || kv.key == "owner_id") && kv.v.Kind == yaml.ScalarNode && kv.v.Tag == "!!int" && decimalID.MatchString(kv.v.Value) {
			*dst = kv.v.Value // an unquoted numeric ID is meant as its digits
			continue
		}
		if s, ok := p.str(kv.v, f, expect); ok {
			*dst = s
			if kv.key == "identity_regex" {
				// Checked alone: check sees it inside an anchoring group,
				// where an unbalanced ")" gives a misleading message.
				if _, err := regexp.Compile(s); err != nil {
					p.errorf(kv.v, f, "not a valid regular expression (RE2 syntax): %v", err)
				}
			}
		}
	}
	if len(p.errs) != before {
		return id, false
	}
	if err := id.check(); err != nil {
		msg := err.Error()
		if _, known := issuerShorthands[id.Issuer]; !known && id.Issuer != issuerAny && !strings.Contains(id.Issuer, "://") {
			names := slices.Sorted(maps.Keys(issuerShorthands))
			if s := suggest(id.Issuer, append(names, issuerAny)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
		}
		p.errorf(n, field, "%s", msg)
		return id, false
	}
	return id, true
}

var decimalID = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// compile runs CompileConfig on c, reporting its errors at the entries they
// name.
func (p *configParser) compile(c Config) {
	_, err := CompileConfig(c)
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var node *yaml.Node
		field, msg := "", e.Error()
		var ce *channelError
		if errors.As(e, &ce) && p.keys[ce.Channel] != nil {
			node, field = p.keys[ce.Channel], join("attestations", ce.Channel)
			msg = ce.Err.Error()
		}
		for _, line := range strings.Split(p.redactKeys(msg), "\n") {
			p.errorf(node, field, "%s", line)
		}
	}
}

// redactKeys hides the credentials of channel keys quoted in msg.
func (p *configParser) redactKeys(msg string) string {
	for key := range p.keys {
		if r := redactChannel(key); r != key {
			msg = strings.ReplaceAll(msg, key, r)
		}
	}
	return msg
}

type keyValue struct {
	key  string
	k, v *yaml.Node
}

// mapping returns the entries of the mapping n, reporting keys that are
// not strings, duplicate, or (when known is not nil) unknown.
func (p *configParser) mapping(n *yaml.Node, field string, known []string) []keyValue {
	m, err := p.r.Mapping(n)
	for _, e := range strictyaml.Errors(err) {
		k := e.Node
		f := join(field, k.Value)
		switch e.Kind {
		case strictyaml.MergeKey:
			p.errorf(k, field, "merge keys (<<) are not supported: write the settings out in full")
		case strictyaml.NonScalarKey:
			p.errorf(k, field, "a key must be a plain string, not %s", strictyaml.DescribeValue(k))
		case strictyaml.NonStringKey:
			p.errorf(k, f, "a key must be a string, not %s: quote it (%q)", strictyaml.DescribeValue(k), k.Value)
		case strictyaml.DuplicateKey:
			if field == "attestations" && k.Value == catchAll {
				p.errorf(k, f, "duplicate key %q (first at line %d): a configuration has one catch-all entry; remove the one at line %d or the one at line %d", k.Value, e.First, e.First, k.Line)
			} else {
				p.errorf(k, f, "duplicate key %q (first at line %d): keep one of the two", k.Value, e.First)
			}
		default:
			p.errorf(k, field, "%v", e)
		}
	}
	var out []keyValue
	for _, kv := range m.Entries() {
		if known != nil && !slices.Contains(known, kv.Key) {
			p.errorf(kv.KeyNode, join(field, kv.Key), "%s", unknownKey(kv.Key, kv.Value, known))
			continue
		}
		out = append(out, keyValue{kv.Key, kv.KeyNode, kv.Value})
	}
	return out
}

func join(field, key string) string {
	if key == "" {
		key = `""`
	}
	if field == "" {
		return redactChannel(key)
	}
	return field + "." + redactChannel(key)
}

// keySynonyms are other names users may try, and the key meant.
var keySynonyms = map[string]string{
	"identities":     "trusted_identities",
	"trusted":        "trusted_identities",
	"signers":        "trusted_identities",
	"san":            "identity",
	"subject":        "identity",
	"regex":          "identity_regex",
	"targetchannel":  "channel_mismatch",
	"target_channel": "channel_mismatch",
	"aliases":        "mirrors",
	"mode":           "require",
	"verify":         "enabled",
	"predicate":      "unknown_predicate",
	"repository":     "source_repository",
	"repo":           "source_repository",
	"ref":            "source_ref",
	"workflow":       "build_signer",
	"runner":         "runner_environment",
}

// catchAllName reports whether key, at the top level, is a name users may
// try for the catch-all.
func catchAllName(key string) bool {
	switch strings.ToLower(key) {
	case "*", "default", "catch-all", "catch_all", "catchall", "fallback":
		return true
	}
	return false
}

func unknownKey(key string, v *yaml.Node, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if s := suggest(key, known); s != "" {
		return msg + fmt.Sprintf(": did you mean %q?", s)
	}
	if slices.Equal(known, topLevelKeys) && catchAllName(key) {
		return msg + `: the catch-all policy is the "*" entry under attestations:, indented, with its key quoted`
	}
	if slices.Equal(known, topLevelKeys) && v.Kind == yaml.MappingNode {
		for i := 0; i < len(v.Content); i += 2 {
			if slices.Contains(channelKeys, v.Content[i].Value) {
				return msg + ": channel entries go under attestations:, indented"
			}
		}
	}
	return msg + ": the keys here are " + strings.Join(known, ", ")
}

// suggest returns the known key closest to key: equal but for case, or
// within two edits, or a known synonym.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		if d := nearest.Distance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return best
	}
	norm := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	if s, ok := keySynonyms[norm]; ok && slices.Contains(known, s) {
		return s
	}
	return ""
}

// kind reports whether n is of kind k, else reports the problem.
func (p *configParser) kind(n *yaml.Node, k yaml.Kind, field, expect string) bool {
	switch {
	case n.Kind == yaml.AliasNode:
		return false // reported by Parse
	case n.Kind == k:
		return true
	}
	fix := ""
	if k == yaml.SequenceNode && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		fix = fmt.Sprintf("; for a single item write [%s]", n.Value)
	}
	p.errorf(n, field, "must be %s, not %s%s", expect, strictyaml.DescribeValue(n), fix)
	return false
}

// str returns the non-empty string n holds, else reports the problem.
func (p *configParser) str(n *yaml.Node, field, expect string) (string, bool) {
	if !p.kind(n, yaml.ScalarNode, field, expect) {
		return "", false
	}
	switch n.Tag {
	case "!!str":
	case "!!null":
		p.errorf(n, field, "empty: give %s, or remove the key", expect)
		return "", false
	case "!!int", "!!float", "!!bool", "!!timestamp", "!!binary":
		p.errorf(n, field, "must be %s, not %s; if it is meant as text, quote it: %q", expect, strictyaml.DescribeValue(n), n.Value)
		return "", false
	default:
		p.errorf(n, field, "must be %s, not %s; remove the tag", expect, strictyaml.DescribeValue(n))
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		p.errorf(n, field, "empty: give %s, or remove the key", expect)
		return "", false
	}
	return n.Value, true
}

func (p *configParser) boolean(n *yaml.Node, field string) (bool, bool) {
	if !p.kind(n, yaml.ScalarNode, field, "true or false") {
		return false, false
	}
	if n.Tag != "!!bool" {
		p.errorf(n, field, "must be true or false, unquoted, not %s", strictyaml.DescribeValue(n))
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

// mode returns the mode n names; pin allows only error and warn.
func (p *configParser) mode(n *yaml.Node, field string, pin bool) (Mode, bool) {
	expect := "error, warn or ignore"
	if pin {
		expect = "error or warn"
	}
	s, ok := p.str(n, field, expect)
	if !ok {
		return "", false
	}
	m, err := parseMode(s)
	if pin && err == nil && m == ModeIgnore {
		err = errors.New("ignore is not a pinning action: use error or warn, or remove pin to turn pinning off")
	} else if pin && err != nil {
		err = fmt.Errorf("unknown pinning action %q: use error or warn, or remove pin to turn pinning off", s)
	}
	if err != nil {
		p.errorf(n, field, "%v", err)
		return "", false
	}
	return m, true
}

// yamlError reports a problem of the document as a whole: e found by
// strictyaml.Reader.Parse on data.
func (p *configParser) yamlError(data []byte, e *strictyaml.Error) {
	switch e.Kind {
	case strictyaml.Syntax:
		p.syntax(data, e)
	case strictyaml.Empty:
		p.errorf(nil, "", "the configuration is empty: add an attestations: mapping with one entry per channel")
	case strictyaml.TooDense:
		p.errorf(nil, "", "the file is too dense a YAML document for a policy configuration (some %d values; this tool reads at most %d): check the file", e.Values, strictyaml.MaxValues)
	case strictyaml.SecondDocument:
		p.errorf(e.Node, "", "a second YAML document starts here: a configuration is one document; remove the --- separator and merge or delete what follows")
	case strictyaml.Alias:
		p.errorf(e.Node, aliasField(e.Path), "YAML alias *%s: aliases are not supported (they can expand to huge documents); write the value out in full", e.Node.Value)
	default: // strictyaml.Panic
		p.errorf(nil, "", "unreadable YAML (%s): check the file", e.Msg)
	}
}

// aliasField returns the field an alias is at: the dotted path of path.
func aliasField(path []strictyaml.Step) string {
	field := ""
	for _, s := range path {
		if s.Key == nil {
			field = fmt.Sprintf("%s[%d]", field, s.Index)
		} else {
			field = join(field, s.Key.Value)
		}
	}
	return field
}

// syntax reports a YAML syntax error e, in data, at the line strictyaml
// located, with a hint for the common mistakes.
func (p *configParser) syntax(data []byte, e *strictyaml.Error) {
	msg, line := e.Msg, e.Line
	lines := bytes.SplitAfter(data, []byte("\n"))
	text := ""
	if line > 0 && line <= len(lines) {
		text = string(lines[line-1])
	}
	switch {
	case strings.Contains(msg, "expected alphabetic or numeric character") && strings.Contains(text, "*"):
		msg += `: a "*" starts a YAML alias; quote the catch-all key: "*":`
	case strings.Contains(msg, "cannot start any token") && strings.Contains(text, "\t"):
		msg += ": indent with spaces, not tabs"
	case strings.Contains(msg, "mapping values are not allowed"):
		msg += ": put a value containing \": \" in quotes, or check the indentation"
	}
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Msg: "YAML syntax error: " + msg})
}
