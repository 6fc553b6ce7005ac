package lockfile

import (
	"github.com/condasigs/condasigs/internal/strictyaml"
	"github.com/condasigs/condasigs/internal/textsafe"
	"go.yaml.in/yaml/v3"
)

// The conda-lock.yml format (conda-lock's unified lock file, models in
// conda_lock/lockfile/v1/models.py of conda/conda-lock; conda-lock writes
// version 1, and micromamba reads only that):
//
//	version: 1
//	metadata: {content_hash: {...}, channels: [...], platforms: [...], sources: [...]}
//	package:
//	- name: zlib
//	  version: 1.3.1
//	  manager: conda            # or pip
//	  platform: linux-64
//	  dependencies: {...}
//	  url: https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-hb9d3cd8_2.conda
//	  hash: {md5: <32 hex>, sha256: <64 hex>}
//	  category: main
//	  optional: false
//
// A noarch package is listed once per platform, with the same URL.
// conda-lock itself requires hash.md5 of a conda package; micromamba
// accepts either hash, and so does this reader.

// parseCondaLock reads a conda-lock.yml whose top-level mapping is top.
func (y *yamlFile) parseCondaLock(top *strictyaml.Mapping) (*File, error) {
	version, vnode, err := y.version(top, "conda-lock.yml", "1")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
		return nil, y.errorf(vnode, "conda-lock.yml version %d is not one this tool reads (it reads version 1, the one conda-lock writes); a pixi.lock of version %d has this layout too: rewrite it with pixi lock, at version 6", version, version)
	case version != 1:
		return nil, y.errorf(vnode, "conda-lock.yml version %d is not one this tool reads (it reads version 1, the one conda-lock writes): regenerate the file with conda-lock", version)
	}
	b := newLockBuilder(y.name, FormatCondaLock)
	err = y.eachEntry(top, "package", "conda-lock.yml", func(item, entry *yaml.Node) error {
		return y.condaLockEntry(b, item, entry)
	})
	if err != nil {
		return nil, err
	}
	return b.lf, nil
}

// condaLockEntry reads one entry of package:, node, listed as entry (an
// alias, maybe).
func (y *yamlFile) condaLockEntry(b *lockBuilder, entry, node *yaml.Node) error {
	fields, err := y.mapping(node)
	if err != nil {
		return err
	}
	manager, ok, err := y.str(fields, "manager")
	switch {
	case err != nil:
		return err
	case !ok:
		return y.errorf(entry, "a package without manager:: a conda-lock.yml gives each package manager: conda or manager: pip")
	case manager == "pip":
		b.skip(y.pypiWhat(fields, "url"), entry.Line, reasonPyPI)
		return nil
	case manager != "conda":
		return y.errorf(at(fields, "manager"), "manager %s is not one a conda-lock.yml has: conda or pip", textsafe.Quote(manager))
	}

	raw, ok, err := y.str(fields, "url")
	switch {
	case err != nil:
		return err
	case !ok:
		return y.errorf(entry, "a conda package without url:: the file is damaged; regenerate it with conda-lock")
	}
	urlNode := at(fields, "url")
	loc, err := checkPackageURL(raw)
	if err != nil {
		return &Error{File: y.name, Line: urlNode.Line, Err: err}
	}
	platform, ok, err := y.str(fields, "platform")
	switch {
	case err != nil:
		return err
	case !ok || platform == "":
		return y.errorf(entry, "the package %s has no platform:, which conda-lock always writes: the file is damaged; regenerate it", shortURL(raw))
	case loc.Subdir != platform && loc.Subdir != "noarch":
		return y.errorf(urlNode, "the URL %s is in subdir %s, but the entry is for platform %s: a package for a platform comes from that platform's subdir or from noarch; the file is damaged or was edited", shortURL(raw), textsafe.Quote(loc.Subdir), textsafe.Quote(platform))
	}

	p := Package{URL: raw, Platforms: []string{platform}, Line: entry.Line}
	hash, ok := fields.Get("hash")
	if !ok || strictyaml.IsNull(hash.Value) {
		return y.errorf(entry, "the package %s has no hash:, which conda-lock always writes: the file is damaged; regenerate it", shortURL(raw))
	}
	if hash.Value.Kind != yaml.MappingNode {
		return y.errorf(hash.At, "hash: is %s: it is a mapping with md5: and sha256:", strictyaml.DescribeNode(hash.Value))
	}
	hashes, err := y.mapping(hash.Value)
	if err != nil {
		return err
	}
	shaLine, md5Line, err := y.hashes(hashes, &p)
	if err != nil {
		return err
	}
	if p.SHA256 == "" && p.MD5 == "" {
		return y.errorf(hash.At, "hash: of %s has neither md5: nor sha256:: the file is damaged or was edited; regenerate it with conda-lock", shortURL(raw))
	}
	return b.add(p, shaLine, md5Line)
}
