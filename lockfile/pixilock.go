package lockfile

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condasigs/condasigs/internal/strictyaml"
	"github.com/condasigs/condasigs/internal/textsafe"
	"go.yaml.in/yaml/v3"
)

// The pixi.lock format (rattler_lock, crates/rattler_lock in conda/rattler)
// has, since version 4, a top-level environments: mapping that refers to
// packages by URL, and a top-level packages: list that describes each
// package once, with its hashes:
//
//	version: 6
//	environments: {default: {channels: [...], packages: {linux-64: [{conda: <url>}, {pypi: <url>}]}}}
//	packages:
//	- conda: https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-hb9d3cd8_2.conda
//	  sha256: <64 hex>
//	  md5: <32 hex>
//	- pypi: https://files.pythonhosted.org/packages/.../requests-2.32.3-py3-none-any.whl
//
// Versions 4 and 5 write a package as a mapping with kind: conda (and
// url:) or kind: pypi; version 6 keys it by conda: or pypi: instead
// (rattler_lock's v5 model is tagged by kind, its v6 one is not). Each
// layout is read in every version: rattler reads only its version's, but
// a verifier gains nothing by refusing the other. In version 6 a conda:
// location that is not a .conda or .tar.bz2 file (a path such as
// ../my-package, or a source URL) is a package pixi builds from source.
// Versions 1 to 3 had the conda-lock layout; version 7 is newer than this
// reader.

// pixiVersions are the pixi.lock versions parsePixiLock reads.
const pixiVersions = "4, 5 and 6"

// parsePixiLock reads a pixi.lock whose top-level mapping is top.
func (y *yamlFile) parsePixiLock(top *strictyaml.Mapping) (*File, error) {
	version, vnode, err := y.version(top, "pixi.lock", pixiVersions)
	if err != nil {
		return nil, err
	}
	switch {
	case version >= 1 && version <= 3:
		return nil, y.errorf(vnode, "pixi.lock version %d is an old format this tool does not read (it reads versions %s): run pixi lock with a current pixi to rewrite the file", version, pixiVersions)
	case version < 4 || version > 6:
		return nil, y.errorf(vnode, "pixi.lock version %d is not one this tool reads (it reads versions %s): update this tool, or write the lock file with a pixi that writes one of those", version, pixiVersions)
	}
	b := newLockBuilder(y.name, FormatPixiLock)
	y.described = map[string]bool{}
	if y.platforms, err = y.pixiPlatforms(top); err != nil {
		return nil, err
	}
	err = y.eachEntry(top, "packages", "pixi.lock", func(item, entry *yaml.Node) error {
		fields, err := y.mapping(entry)
		if err != nil {
			return err
		}
		kind := fields.Has("kind")
		conda := fields.Has("conda")
		pypi := fields.Has("pypi")
		switch {
		case kind && (conda || pypi):
			return y.errorf(item, "a package with both kind: (as versions 4 and 5 write them) and conda: or pypi: (as version 6 does): the file is damaged; regenerate it with pixi lock")
		case kind:
			return y.pixiKindEntry(b, item, fields)
		}
		return y.pixiKeyedEntry(b, item, fields)
	})
	if err != nil {
		return nil, err
	}
	if err := y.pixiResolved(b); err != nil {
		return nil, err
	}
	return b.lf, nil
}

// pixiResolved refuses environments that reference a package no packages:
// entry describes with the same location, and packages: entries whose URLs
// differ only in spelling. pixi (rattler_lock) resolves a reference by URL
// equality after normalising both (the case of scheme and host, default
// ports, dot segments, a file:// URL and its path), and fails on one that
// matches nothing; pixi writes both from one value. Read by their text, a
// reference in another spelling would give its package no platform, or the
// platform to another entry than the one installed.
func (y *yamlFile) pixiResolved(b *lockBuilder) error {
	for _, r := range y.refs {
		if !y.described[r.location] {
			return y.errorf(r.node, "the environments list %s, which no entry of packages: describes with that location: the file is damaged or was edited; regenerate it with pixi lock", displayLocation(r.location))
		}
	}
	first := map[string]Package{}
	for _, p := range b.lf.Packages {
		k := looseURL(p.URL)
		if q, dup := first[k]; dup {
			return lockErr(y.name, p.Line, "%s and %s (line %d) name one package in two spellings: installers may take either; the file is damaged or was edited", shortURL(p.URL), shortURL(q.URL), q.Line)
		}
		first[k] = p
	}
	return nil
}

// pixiKindEntry reads an entry written kind: conda with url:, or kind:
// pypi, as versions 4 and 5 write them. entry is the entry as listed, for
// its line.
func (y *yamlFile) pixiKindEntry(b *lockBuilder, entry *yaml.Node, fields *strictyaml.Mapping) error {
	kind, _, err := y.str(fields, "kind")
	if err != nil {
		return err
	}
	switch kind {
	case "conda":
		raw, ok, err := y.str(fields, "url")
		switch {
		case err != nil:
			return err
		case !ok:
			return y.errorf(entry, "a conda package without url:: the file is damaged; regenerate it with pixi lock")
		}
		y.described[raw] = true
		return y.pixiBinary(b, entry, fields, raw, at(fields, "url"), y.platforms[raw])
	case "pypi":
		b.skip(y.pypiWhat(fields, "url", "path"), entry.Line, reasonPyPI)
		return nil
	}
	return y.errorf(at(fields, "kind"), "kind %s is not one a pixi.lock has: conda or pypi", textsafe.Quote(kind))
}

// pixiKeyedEntry reads an entry written conda: <location> or pypi:
// <location>, as version 6 writes them. entry is the entry as listed, for
// its line.
func (y *yamlFile) pixiKeyedEntry(b *lockBuilder, entry *yaml.Node, fields *strictyaml.Mapping) error {
	isConda := fields.Has("conda")
	isPyPI := fields.Has("pypi")
	switch {
	case isConda && isPyPI:
		return y.errorf(entry, "a package with both conda: and pypi:: each entry is one or the other; the file is damaged")
	case isPyPI:
		b.skip(y.pypiWhat(fields, "pypi"), entry.Line, reasonPyPI)
		return nil
	case !isConda:
		return y.errorf(entry, "a package with neither conda: nor pypi: (nor kind:): a pixi.lock names each package by one of them; the file is damaged")
	}
	location, ok, err := y.str(fields, "conda")
	switch {
	case err != nil:
		return err
	case !ok || location == "":
		return y.errorf(at(fields, "conda"), "conda: is empty: it is the URL of the package")
	}
	y.described[location] = true
	platforms := y.platforms[location] // by the location as the environments write it
	fileName := location
	if !isLocalPath(location) {
		if i := strings.IndexAny(fileName, "?#"); i >= 0 {
			fileName = fileName[:i]
		}
	}
	fileName = fileName[strings.LastIndexAny(fileName, `/\`)+1:]
	if strings.HasSuffix(strings.ToLower(fileName), ".whl") {
		return y.errorf(at(fields, "conda"), "a wheel (%s) under conda:: a pixi.lock names wheels under pypi:; the file is damaged or was edited", displayLocation(location))
	}
	if !isArchiveName(fileName) {
		what := "conda source package " + displayLocation(location)
		if name, _, _ := y.str(fields, "name"); name != "" {
			what = fmt.Sprintf("conda source package %s (%s)", textsafe.Clip(name), displayLocation(location))
		}
		b.skip(what, entry.Line, "pixi builds it from source (a path or a source URL, not a channel's .conda or .tar.bz2 file): it has no channel attestations to check")
		return nil
	}
	if isLocalPath(location) {
		// pixi installs a package file at a path as it installs one of a
		// channel: it is verified as one, from its directory, as conda's
		// explicit files name them.
		u, err := y.pixiPathURL(location)
		if err != nil {
			return y.errorf(at(fields, "conda"), "%v", err)
		}
		location = u
	}
	return y.pixiBinary(b, entry, fields, location, at(fields, "conda"), platforms)
}

// pixiPathURL is the file:// URL of the package file at local path p of
// a pixi.lock, which rattler takes as written (no ~, $VARIABLE or %
// expansion): an absolute path, or one relative to the lock file's
// directory.
func (y *yamlFile) pixiPathURL(p string) (string, error) {
	if u, ok := absolutePathURL(p); ok {
		return u, nil
	}
	neither := fmt.Errorf("the package file %s is at a path that is neither absolute nor relative to the lock file", displayLocation(p))
	switch {
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`): // a UNC path, a root without a drive
		return "", neither
	case y.dir == "":
		return "", fmt.Errorf("the package file %s is at a path relative to the lock file, whose directory is not known here: read the lock file by its path", displayLocation(p))
	}
	if u, ok := absolutePathURL(filepath.Join(y.dir, filepath.FromSlash(p))); ok {
		return u, nil
	}
	return "", neither
}

// pixiBinary records a conda package of a pixi.lock, at url raw (given by
// urlNode), that the environments list under platforms.
func (y *yamlFile) pixiBinary(b *lockBuilder, entry *yaml.Node, fields *strictyaml.Mapping, raw string, urlNode *yaml.Node, platforms []string) error {
	if _, err := checkPackageURL(raw); err != nil {
		return &Error{File: y.name, Line: urlNode.Line, Err: err}
	}
	for _, platform := range platforms {
		if err := checkSubdir(raw, platform); err != nil {
			return &Error{File: y.name, Line: urlNode.Line, Err: err}
		}
	}
	p := Package{URL: raw, Platforms: slices.Clone(platforms), Line: entry.Line}
	shaLine, md5Line, err := y.hashes(fields, &p)
	if err != nil {
		return err
	}
	if p.SHA256 == "" && p.MD5 == "" {
		return y.errorf(entry, "the package %s has neither sha256: nor md5:, which pixi always records: the file is damaged or was edited; regenerate it with pixi lock", shortURL(raw))
	}
	return b.add(p, shaLine, md5Line)
}

// maxPixiPlatforms bounds the platforms a pixi.lock's environments name:
// conda has about twenty subdirs.
const maxPixiPlatforms = 64

// pixiPlatforms reads environments: (environment name: {packages:
// {platform: [{conda: <location>} or {pypi: ...}, ...]}}) and returns, by
// conda location as written, the sorted platforms under which some
// environment lists it: what pixi installs on a platform is that
// platform's list, whatever the URLs say. Each list is read once per
// platform, however often aliases repeat it.
func (y *yamlFile) pixiPlatforms(top *strictyaml.Mapping) (map[string][]string, error) {
	out := map[string][]string{}
	kv, ok := top.Get("environments")
	if !ok || strictyaml.IsNull(kv.Value) {
		return out, nil
	}
	envs, err := y.mappingValue(kv, "environments: is a mapping of environment names")
	if err != nil {
		return nil, err
	}
	type seenKey struct {
		list     *yaml.Node
		platform string
	}
	seen := map[seenKey]bool{}
	names := map[string]bool{}
	seenRef := map[string]bool{}
	for _, env := range envs.Entries() {
		if strictyaml.IsNull(env.Value) {
			continue
		}
		em, err := y.mappingValue(env, "an environment is a mapping with channels: and packages:")
		if err != nil {
			return nil, err
		}
		pk, ok := em.Get("packages")
		if !ok || strictyaml.IsNull(pk.Value) {
			continue
		}
		byPlatform, err := y.mappingValue(pk, "an environment's packages: is a mapping of platforms to lists of packages")
		if err != nil {
			return nil, err
		}
		for _, pl := range byPlatform.Entries() {
			platform := pl.Key
			if !subdirName.MatchString(platform) {
				return nil, y.errorf(pl.KeyNode, "the platform %s is not a conda subdir name (such as linux-64 or osx-arm64): the file is damaged or was edited", textsafe.Quote(platform))
			}
			if names[platform] = true; len(names) > maxPixiPlatforms {
				return nil, y.errorf(pl.KeyNode, "the environments name more than %d platforms: the file is damaged or was edited", maxPixiPlatforms)
			}
			list := pl.Value
			switch {
			case strictyaml.IsNull(list):
				continue
			case list.Kind != yaml.SequenceNode:
				return nil, y.errorf(pl.At, "the packages of platform %s are %s: a list", textsafe.Quote(platform), strictyaml.DescribeNode(list))
			case seen[seenKey{list, platform}]:
				continue
			}
			seen[seenKey{list, platform}] = true
			for _, item := range list.Content {
				ref := strictyaml.Deref(item)
				if ref.Kind != yaml.MappingNode {
					return nil, y.errorf(item, "an entry of the packages of platform %s is %s: each is a mapping with conda: or pypi:", textsafe.Quote(platform), strictyaml.DescribeNode(ref))
				}
				rm, err := y.mapping(ref)
				if err != nil {
					return nil, err
				}
				location, ok, err := y.str(rm, "conda")
				if err != nil {
					return nil, err
				}
				if ok && !seenRef[location] {
					seenRef[location] = true
					y.refs = append(y.refs, pixiRef{location, at(rm, "conda")})
				}
				if ok && !slices.Contains(out[location], platform) {
					out[location] = append(out[location], platform)
					slices.Sort(out[location])
				}
			}
		}
	}
	return out, nil
}

// mappingValue returns the value of kv as a mapping; what says what it
// should be, for the error when it is not.
func (y *yamlFile) mappingValue(kv strictyaml.Entry, what string) (*strictyaml.Mapping, error) {
	if kv.Value.Kind != yaml.MappingNode {
		return nil, y.errorf(kv.At, "%s is %s: %s", kv.Key, strictyaml.DescribeNode(kv.Value), what)
	}
	return y.mapping(kv.Value)
}

// hashes reads the sha256: and md5: of fields into p, and returns their
// lines.
func (y *yamlFile) hashes(fields *strictyaml.Mapping, p *Package) (shaLine, md5Line int, err error) {
	for _, h := range []struct {
		key  string
		n    int
		dst  *string
		line *int
	}{{"sha256", sha256Hex, &p.SHA256, &shaLine}, {"md5", md5Hex, &p.MD5, &md5Line}} {
		s, ok, err := y.str(fields, h.key)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			continue
		}
		v := at(fields, h.key)
		if *h.dst, err = normalizeHash(s, h.n, h.key); err != nil {
			return 0, 0, &Error{File: y.name, Line: v.Line, Err: err}
		}
		*h.line = v.Line
	}
	return shaLine, md5Line, nil
}

// reasonPyPI is why PyPI packages are skipped.
const reasonPyPI = "a PyPI package, not a conda package: it has no conda attestations to check"

// pypiWhat names a PyPI package entry by its name and version, or else by
// the first of the location keys it has.
func (y *yamlFile) pypiWhat(fields *strictyaml.Mapping, locationKeys ...string) string {
	name, _, _ := y.str(fields, "name")
	version, _, _ := y.str(fields, "version")
	if name != "" {
		return strings.TrimSpace("PyPI package " + textsafe.Clip(name) + " " + textsafe.Clip(version))
	}
	for _, k := range locationKeys {
		if s, ok, _ := y.str(fields, k); ok {
			return "PyPI package " + displayLocation(s)
		}
	}
	return "PyPI package"
}
