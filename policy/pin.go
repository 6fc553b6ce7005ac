package policy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/localfile"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/rogpeppe/go-internal/lockedfile"
)

// PinnedSigner is the signer recorded for a package the first time it verified
// (trust on first use). It names the most stable identity the certificate
// offers: the source repository's immutable identifier, else its URI,
// else the SAN; always with the issuer.
type PinnedSigner struct {
	Issuer       string `json:"issuer"`
	RepositoryID string `json:"repository_id,omitempty"`
	Repository   string `json:"repository,omitempty"`
	SAN          string `json:"san,omitempty"`
}

// pinnedSignerOf returns the pin of a verified bundle's signer.
func pinnedSignerOf(ev attest.Evidence) PinnedSigner {
	p := PinnedSigner{Issuer: ev.Issuer}
	switch {
	case ev.Claims != nil && ev.Claims.SourceRepositoryIdentifier != "":
		p.RepositoryID = ev.Claims.SourceRepositoryIdentifier
		p.Repository = ev.Claims.SourceRepositoryURI // for messages only
	case ev.Claims != nil && ev.Claims.SourceRepositoryURI != "":
		p.Repository = ev.Claims.SourceRepositoryURI
	default:
		p.SAN = ev.SAN
	}
	return p
}

// Same reports whether q is the signer p pins.
func (p PinnedSigner) Same(q PinnedSigner) bool {
	if p.Issuer != q.Issuer {
		return false
	}
	switch {
	case p.RepositoryID != "":
		return p.RepositoryID == q.RepositoryID
	case p.Repository != "":
		return p.Repository == q.Repository
	default:
		return p.SAN != "" && p.SAN == q.SAN
	}
}

// String describes the pinned signer for messages.
func (p PinnedSigner) String() string {
	switch {
	case p.RepositoryID != "":
		return fmt.Sprintf("repository %s (id %s, issuer %s)", p.Repository, p.RepositoryID, p.Issuer)
	case p.Repository != "":
		return fmt.Sprintf("repository %s (issuer %s)", p.Repository, p.Issuer)
	}
	return fmt.Sprintf("%s (issuer %s)", p.SAN, p.Issuer)
}

// PinStore holds pins, per channel URL and package name, in a JSON file.
// It is safe for concurrent use. Changes stay in memory until Save.
//
// Several stores, in one process or many, may share a file: Save merges
// this store's changes into the file as it is then, under a file lock, so
// no writer loses another's pins. A store remembers how each of its
// changes came about: a pin recorded where the store had none (a first
// use) never replaces a pin another writer recorded meanwhile, and a pin
// that replaced one (Set over an existing pin) replaces only that pin.
type PinStore struct {
	path    string
	mu      sync.Mutex // held by Save throughout: no change slips between the merge and the write
	pins    map[string]map[string]PinnedSigner
	changes map[pinKey]pinChange
}

// pinKey names a package on a channel.
type pinKey struct{ channel, name string }

// pinChange is a pin set since the file was last read: over the pin the
// store held then (replaced), or where it held none (a first use).
type pinChange struct {
	replaced *PinnedSigner
	pin      PinnedSigner
}

type pinFile struct {
	Version int                                `json:"version"`
	Pins    map[string]map[string]PinnedSigner `json:"pins"`
}

const pinFileVersion = 1

// maxPinFile bounds the pin file read into memory.
const maxPinFile = 64 << 20

// maxPinLinks bounds the symbolic links followed to the pin file.
const maxPinLinks = 40

// LoadPins reads the pin file at path. A missing file is an empty store
// (the first use); a file that cannot be read or parsed is an error, never
// an empty trust set. A symbolic link is followed, by Save too.
func LoadPins(path string) (*PinStore, error) {
	pins, _, err := readPins(path)
	if err != nil {
		return nil, err
	}
	return &PinStore{path: path, pins: pins, changes: map[pinKey]pinChange{}}, nil
}

// readPins reads and checks the pin file at path. A missing file is no
// pins, and exists is false.
func readPins(path string) (pins map[string]map[string]PinnedSigner, exists bool, err error) {
	// The open never blocks (a FIFO would wait for a writer), and the
	// file opened is the one checked: a regular file, never a FIFO, a
	// device or a directory.
	f, fi, err := localfile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]map[string]PinnedSigner{}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pins: %w", err)
	}
	defer f.Close()
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("pins: %s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPinFile+1))
	if err != nil {
		return nil, false, fmt.Errorf("pins: %s: %w", path, err)
	}
	if len(data) > maxPinFile {
		return nil, false, fmt.Errorf("pins: %s is larger than %d bytes", path, maxPinFile)
	}
	if err := checkPinSyntax(data); err != nil {
		return nil, false, fmt.Errorf("pins: %s: %w", path, err)
	}
	var pf pinFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, false, fmt.Errorf("pins: %s is corrupt (%v); restore it from a backup or delete it to start trusting anew", path, err)
	}
	if pf.Version != pinFileVersion {
		return nil, false, fmt.Errorf("pins: %s has version %d, this program reads version %d", path, pf.Version, pinFileVersion)
	}
	for ch, byName := range pf.Pins {
		for name, p := range byName {
			if p.Issuer == "" || (p.RepositoryID == "" && p.Repository == "" && p.SAN == "") {
				return nil, false, fmt.Errorf("pins: %s is corrupt: the pin of %s on %s names no signer", path, name, ch)
			}
			if p.SAN != "" && (p.RepositoryID != "" || p.Repository != "") {
				// Same would compare the repository and ignore the SAN
				// that a reviewer reads; pinnedSignerOf never writes both.
				return nil, false, fmt.Errorf("pins: %s is corrupt: the pin of %s on %s names both a repository and a SAN, and only the repository would count; keep the one the package's certificates carry (condasigs pin writes it)", path, textsafe.Quote(name), redactChannel(ch))
			}
		}
	}
	pins, err = rekeyPins(pf.Pins)
	if err != nil {
		return nil, false, fmt.Errorf("pins: %s: %w", path, err)
	}
	return pins, true, nil
}

// rekeyPins keys pins by the canonical form of their channel URLs, which
// may have changed since the file was written (a canonical form that folds
// more spellings together): a pin must not be lost to a respelling, which
// would reset trust on first use. Two spellings that pin different signers
// of one package are an error: which one is right is for a person to say.
func rekeyPins(in map[string]map[string]PinnedSigner) (map[string]map[string]PinnedSigner, error) {
	out := make(map[string]map[string]PinnedSigner, len(in))
	chans := slices.Sorted(maps.Keys(in)) // errors name the same pair each time
	for _, ch := range chans {
		canon, err := conda.NormalizeChannel(ch)
		if err != nil {
			return nil, fmt.Errorf("the channel %s of a pin cannot be used: %w; remove its pins, or restore the file from a backup", redactChannel(ch), err)
		}
		if out[canon] == nil {
			out[canon] = make(map[string]PinnedSigner, len(in[ch]))
		}
		for name, p := range in[ch] {
			if prev, dup := out[canon][name]; dup && !prev.Same(p) {
				return nil, fmt.Errorf("two spellings of channel %s pin different signers of %s (%s and %s): keep the right one and delete the other", canon, name, prev, p)
			}
			out[canon][name] = p
		}
	}
	return out, nil
}

// Get returns the pin of package name on channel (a normalised URL).
func (s *PinStore) Get(channel, name string) (PinnedSigner, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[channel][name]
	return p, ok
}

// Set records the pin of package name on channel. Over an existing pin it
// is a deliberate replacement (condasigs pin --replace): Save writes it
// over that pin, though not over one another writer recorded meanwhile.
// Where the store holds no pin it is a first use, like SetIfAbsent.
func (s *PinStore) Set(channel, name string, p PinnedSigner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(channel, name, p)
}

// set records p and remembers the change; s.mu is held.
func (s *PinStore) set(channel, name string, p PinnedSigner) {
	if s.pins == nil {
		s.pins = map[string]map[string]PinnedSigner{}
	}
	if s.changes == nil {
		s.changes = map[pinKey]pinChange{}
	}
	k := pinKey{channel, name}
	c, changed := s.changes[k]
	if !changed {
		// The first change since the file was read: remember what it
		// replaced. Later ones keep that, so Save compares with the file.
		if old, ok := s.pins[channel][name]; ok {
			c.replaced = &old
		}
	}
	c.pin = p
	s.changes[k] = c
	if s.pins[channel] == nil {
		s.pins[channel] = map[string]PinnedSigner{}
	}
	s.pins[channel][name] = p
}

// SetIfAbsent records p for package name on channel unless a pin exists;
// then it returns that pin and true. The check and the write are one step.
// Save never writes such a first-use pin over one that another writer
// recorded meanwhile: it reports a PinConflictError instead.
func (s *PinStore) SetIfAbsent(channel, name string, p PinnedSigner) (PinnedSigner, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pins[channel][name]; ok {
		return old, true
	}
	s.set(channel, name, p)
	return p, false
}

// PinConflict is a pin of this store that Save did not write because the
// file pinned another signer of the package first.
type PinConflict struct {
	Channel string
	Package string
	// Kept is the pin in the file, which stays.
	Kept PinnedSigner
	// Refused is this store's pin, not written.
	Refused PinnedSigner
	// Replacing reports whether the refused pin was a deliberate
	// replacement (of a pin that another writer changed meanwhile) rather
	// than a first use.
	Replacing bool
}

// PinConflictError reports the pins Save did not write because another
// writer pinned other signers of those packages first (trust on first use:
// the first pin stays). Save wrote every other change; the store now holds
// the file's pins.
type PinConflictError struct {
	Path      string
	Conflicts []PinConflict
}

// Error names the pin kept and the pin refused for each package.
func (e *PinConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pins: %s: another writer pinned other signers first, and those pins stay:", e.Path)
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteByte(';')
		}
		what := "not pinned"
		if c.Replacing {
			what = "not replaced"
		}
		fmt.Fprintf(&b, " %s on %s is pinned to %s, %s to %s", c.Package, redactChannel(c.Channel), c.Kept, what, c.Refused)
	}
	return b.String()
}

// Save merges the store's changes into its file and writes it atomically,
// under an exclusive lock on a file beside it (the pin file's name with
// ".lock" appended, left in place), so that concurrent writers, in this
// process or others, serialise. Under the lock Save reads the file again:
// pins this store did not change are taken from the file as it is now;
// a first-use pin is added unless the file pins another signer of that
// package, and a replacement is written unless another writer changed the
// pin it replaced. Such conflicts keep the file's pin; Save writes every
// other change and returns a *PinConflictError naming both pins. A file
// that has become unreadable or corrupt is an error, and is left alone.
//
// The write is a temporary file in the same directory, synced, renamed
// over the old one, then the directory synced (on Unix). A pin file that is a
// symbolic link is followed: its target is replaced and the link kept.
func (s *PinStore) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		return errors.New("pins: the store has no file: use LoadPins")
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	target, err := resolvePinPath(s.path)
	if err != nil {
		return err
	}
	unlock, err := lockedfile.MutexAt(target + ".lock").Lock()
	if err != nil {
		return fmt.Errorf("pins: locking %s: %w", s.path, err)
	}
	defer unlock()

	current, _, err := readPins(target)
	if err != nil {
		return err
	}
	conflicts := s.merge(current)
	if err := writePins(target, current); err != nil {
		return err
	}
	s.pins = current
	clear(s.changes)
	if len(conflicts) > 0 {
		return &PinConflictError{Path: s.path, Conflicts: conflicts}
	}
	return nil
}

// merge applies the store's changes to the file's pins, in place, and
// returns those that another writer's pin overrides; s.mu is held.
func (s *PinStore) merge(file map[string]map[string]PinnedSigner) []PinConflict {
	var conflicts []PinConflict
	for k, c := range s.changes {
		cur, ok := file[k.channel][k.name]
		switch {
		case ok && cur.Same(c.pin):
			// The same signer: nothing to do.
		case !ok, c.replaced != nil && cur.Same(*c.replaced):
			if file[k.channel] == nil {
				file[k.channel] = map[string]PinnedSigner{}
			}
			file[k.channel][k.name] = c.pin
		default:
			conflicts = append(conflicts, PinConflict{Channel: k.channel, Package: k.name, Kept: cur, Refused: c.pin, Replacing: c.replaced != nil})
		}
	}
	slices.SortFunc(conflicts, func(a, b PinConflict) int {
		return cmp.Or(strings.Compare(a.Channel, b.Channel), strings.Compare(a.Package, b.Package))
	})
	return conflicts
}

// resolvePinPath follows symbolic links from path to the file they name,
// which need not exist, so that Save replaces the link's target and keeps
// the link rather than putting a regular file in its place. The directory
// of each step is resolved first: a relative link is relative to it.
func resolvePinPath(path string) (string, error) {
	p := path
	for range maxPinLinks {
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", fmt.Errorf("pins: %s: following %s: %w", path, p, err)
		}
		p = filepath.Join(dir, filepath.Base(p))
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", fmt.Errorf("pins: %w", err)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return p, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("pins: %w", err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		p = link
	}
	return "", fmt.Errorf("pins: %s: more than %d symbolic links", path, maxPinLinks)
}

// writePins writes pins to path atomically, mode 0600 (see
// internal/atomicfile for how: synced, renamed over path, and the rename
// synced), in the form of marshalPins.
func writePins(path string, pins map[string]map[string]PinnedSigner) error {
	data, err := marshalPins(pins)
	if err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	if err := atomicfile.WritePath(path, data, 0o600); err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	return nil
}

// marshalPins writes the pin file so that it diffs well: a JSON object
// (a pinFile) with the channels sorted, and under each channel one line
// per package, sorted by name, that holds the package's whole pin. A pin
// that changes is one changed line; a package added or removed, one line
// (and the comma of the line before it, as JSON has it).
func marshalPins(pins map[string]map[string]PinnedSigner) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"pins\": {", pinFileVersion)
	for i, ch := range slices.Sorted(maps.Keys(pins)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		if err := writeJSONValue(&b, ch); err != nil {
			return nil, err
		}
		b.WriteString(": {")
		byName := pins[ch]
		for j, name := range slices.Sorted(maps.Keys(byName)) {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n      ")
			if err := writeJSONValue(&b, name); err != nil {
				return nil, err
			}
			b.WriteString(": ")
			if err := writeJSONValue(&b, byName[name]); err != nil {
				return nil, err
			}
		}
		if len(byName) > 0 {
			b.WriteString("\n    ")
		}
		b.WriteByte('}')
	}
	if len(pins) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("}\n}\n")
	// Signers' names come from certificates: a bidirectional override in
	// one must not reorder a diff of the file as a reviewer sees it.
	return textsafe.EscapeJSON(b.Bytes()), nil
}

// writeJSONValue appends v as compact JSON, without escaping the HTML
// characters <, > and &, which a pin file never meets in a browser.
func writeJSONValue(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}
