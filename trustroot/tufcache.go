package trustroot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/condasigs/condasigs/conda"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

// The cache of one TUF repository is the directory repositoryCacheDir
// names under TUFOptions.CacheDir:
//
//	root.json, timestamp.json,        the metadata, written by go-tuf
//	snapshot.json, targets.json
//	targets/trusted_root.json         the target
//	state/roots/<N>.root.json         every root after the initial one, as
//	                                  downloaded by an update that succeeded
//	state/update.json                 the last successful update: when, and
//	                                  which timestamp.json it left
//	lock                              held by updates and reads (lockName)
//
// go-tuf writes only <role>.json files (a role name is path-escaped, so it
// cannot name a subdirectory), each by renaming a temporary file over it,
// and only in a cache that can be written; it is never given the target,
// which this package downloads, verifies and stores itself.
//
// The cache is used only when it is private (openDir): the cache
// directory and the repository's pass cachedir.Check (or belong to
// root, read-only), and every file and subdirectory used in it is a real
// one of the user's or root's that no one else can write. Everything
// this package reads and writes there goes through an os.Root, and
// nothing follows a symbolic link: a link, a FIFO, a device, a file of
// another user or one too large reads as missing, and a write replaces
// what stands at its name rather than writing through it. go-tuf reads its
// metadata files by name, so before it runs they are all checked, and
// whatever fails is removed from a cache that can be written, or makes one
// that cannot unusable; since no one but the user and root can change the
// directory, what was checked is what go-tuf reads.
const (
	stateDir   = "state"
	rootsDir   = "roots"
	targetsDir = "targets"
	updateFile = "update.json"
)

// Size bounds of the files read from the cache: go-tuf's defaults for
// root.json and timestamp.json, and a few hundred bytes for the record.
const (
	maxRootSize      = 512000
	maxTimestampSize = 16384
	maxRecordSize    = 4096
)

// maxMetadataSize bounds every <role>.json file go-tuf may read from the
// cache: a larger one is not read (it is removed from a cache that can be
// written). go-tuf downloads at most 2 MB of snapshot and 5 MB of targets
// metadata unless the signed metadata above them say otherwise.
const maxMetadataSize = 16 << 20

// maxRootChain bounds the rotated roots walked in the cache, as go-tuf
// bounds the rotations of an update.
const maxRootChain = 256

// clockSkew is how far in the future a recorded update may lie before the
// record is not believed.
const clockSkew = 5 * time.Minute

// repositoryCacheDir is the directory under cacheDir where a TUF source
// caches the metadata of the repository at repositoryURL ("" is the
// public-good instance): a readable name made from the URL (credentials,
// tokens and queries left out) and a hash of the whole URL, so that no two
// repositories share a directory. Everything a source reads offline is in
// that one directory, which a CI cache may save and restore alone.
//
// Caches of condasigs releases that named the directory after the URL
// alone are not read.
func repositoryCacheDir(cacheDir, repositoryURL string) string {
	if repositoryURL == "" {
		repositoryURL = tuf.DefaultMirror
	}
	return filepath.Join(cacheDir, repositoryDirName(repositoryURL))
}

// repositoryDirName is a readable, sanitized prefix of the redacted URL and
// 128 bits of the SHA-256 of its canonical form.
func repositoryDirName(rawURL string) string {
	sum := sha256.Sum256([]byte(canonicalRepositoryURL(rawURL)))
	return readableName(canonicalRepositoryURL(rawURL)) + "-" + hex.EncodeToString(sum[:16])
}

// canonicalRepositoryURL keeps every part of the URL that can change what
// is downloaded, scheme included, and folds only spellings that reach the
// same files: the case of the scheme and host, a default port, trailing
// slashes (go-tuf adds one before each file name).
func canonicalRepositoryURL(rawURL string) string {
	s := strings.TrimRight(rawURL, "/")
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	switch u.Scheme {
	case "https":
		u.Host = strings.TrimSuffix(u.Host, ":443")
	case "http":
		u.Host = strings.TrimSuffix(u.Host, ":80")
	}
	return u.String()
}

// readableName is the host and path of the redacted URL in lower-case
// letters, digits, dots and dashes, at most 48 characters.
func readableName(rawURL string) string {
	s := conda.Redact(rawURL)
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if b.Len() >= 48 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	if name := strings.Trim(b.String(), "-."); name != "" {
		return name
	}
	return "repository"
}

// chainHead returns the newest root that chains from initial through the
// rotated roots kept in the cache c: each must be the next version, signed
// by a threshold of the keys of the one before it and of its own. A
// missing, unreadable or unverifiable root ends the chain at the one
// before it. With no cache, or an initial root that does not parse,
// initial is returned as it is (the update then reports it).
func chainHead(initial []byte, c *cacheDir) []byte {
	head := initial
	if c == nil {
		return head
	}
	tm, err := trustedmetadata.New(initial)
	if err != nil {
		return head
	}
	roots, err := c.subdir(false, stateDir, rootsDir)
	if err != nil {
		return head
	}
	defer roots.Close()
	for range maxRootChain {
		next := tm.Root.Signed.Version + 1
		b, err := readEntry(roots, rootFileName(next), maxRootSize)
		if err != nil {
			break
		}
		if _, err := tm.UpdateRoot(b); err != nil {
			break
		}
		head = b
	}
	return head
}

// rootFileName is the name of root version v, as TUF repositories with
// consistent snapshots publish it.
func rootFileName(v int64) string { return strconv.FormatInt(v, 10) + ".root.json" }

// rootVersionOf returns the version in a root file name such as
// "3.root.json".
func rootVersionOf(name string) (int64, bool) {
	v, ok := strings.CutSuffix(name, ".root.json")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == v
}

// updateRecord is state/update.json: when an update last succeeded and
// the timestamp.json it left in the cache. It is not signed: it is
// believed only while the cached timestamp.json is the one it names.
type updateRecord struct {
	Updated          time.Time `json:"updated"`
	TimestampVersion int64     `json:"timestampVersion"`
	TimestampSHA256  string    `json:"timestampSHA256"`
}

// recordUpdate writes the record of an update that succeeded at when,
// whose trusted timestamp has version version. The record names the bytes
// of the cached timestamp.json; if that file is not the trusted version,
// any old record is removed instead, so that the age reads as unknown.
func recordUpdate(c *cacheDir, version int64, when time.Time) error {
	ts, err := readEntry(c.root, metadata.TIMESTAMP+".json", maxTimestampSize)
	if err == nil {
		var v int64
		if v, err = timestampVersionOf(ts); err == nil && v != version {
			err = fmt.Errorf("the cached timestamp.json is version %d, not the trusted %d", v, version)
		}
	}
	if err != nil {
		state, serr := c.subdir(false, stateDir)
		if errors.Is(serr, fs.ErrNotExist) {
			return err
		}
		if serr == nil {
			serr = state.Remove(updateFile)
			state.Close()
		}
		if serr != nil && !errors.Is(serr, fs.ErrNotExist) {
			err = errors.Join(err, serr)
		}
		return err
	}
	sum := sha256.Sum256(ts)
	b, err := json.Marshal(updateRecord{Updated: when.UTC(), TimestampVersion: version, TimestampSHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	return c.writeAtomic(b, updateFile, stateDir)
}

// timestampVersionOf returns the version of a timestamp.json (its
// signature is checked elsewhere).
func timestampVersionOf(b []byte) (int64, error) {
	md, err := metadata.Timestamp().FromBytes(b)
	if err != nil {
		return 0, err
	}
	return md.Signed.Version, nil
}

// cacheAge returns when the cache c was last updated, or, with a zero
// time, why that is not known. ts is the cached timestamp.json the material
// was verified with, of version version, expiring at expires (both
// signed). The record is believed only if it names exactly these bytes and
// this version, lies no later than now (give or take clockSkew) and before
// the timestamp expired: an update accepts no expired timestamp.
func cacheAge(c *cacheDir, ts []byte, version int64, expires, now time.Time) (time.Time, string) {
	b, err := c.read(updateFile, maxRecordSize, stateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, "the TUF cache has no record of its last update"
	}
	if err != nil {
		return time.Time{}, fmt.Sprintf("the record of the TUF cache's last update is unreadable: %v", err)
	}
	var rec updateRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return time.Time{}, fmt.Sprintf("the record of the TUF cache's last update is malformed: %v", err)
	}
	sum := sha256.Sum256(ts)
	switch {
	case rec.TimestampSHA256 != hex.EncodeToString(sum[:]) || rec.TimestampVersion != version:
		return time.Time{}, "the record of the TUF cache's last update does not match the cached timestamp metadata"
	case rec.Updated.IsZero():
		return time.Time{}, "the record of the TUF cache's last update has no time"
	case rec.Updated.After(now.Add(clockSkew)):
		return time.Time{}, fmt.Sprintf("the record of the TUF cache's last update lies in the future (%s)", rec.Updated.UTC().Format(time.RFC3339))
	case !expires.IsZero() && rec.Updated.After(expires):
		return time.Time{}, "the record of the TUF cache's last update is later than its timestamp metadata's expiry"
	}
	return rec.Updated.UTC(), ""
}
