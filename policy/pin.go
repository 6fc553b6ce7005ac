package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/fetch"
)

// Pin is the signer recorded for a package the first time it verified
// (trust on first use). It names the most stable identity the certificate
// offers: the source repository's immutable identifier, else its URI,
// else the SAN; always with the issuer.
type Pin struct {
	Issuer       string `json:"issuer"`
	RepositoryID string `json:"repository_id,omitempty"`
	Repository   string `json:"repository,omitempty"`
	SAN          string `json:"san,omitempty"`
}

// PinOf returns the pin of a verified bundle's signer.
func PinOf(ev attest.Evidence) Pin {
	p := Pin{Issuer: ev.Issuer}
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
func (p Pin) Same(q Pin) bool {
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
func (p Pin) String() string {
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
type PinStore struct {
	path string
	mu   sync.Mutex
	pins map[string]map[string]Pin
}

type pinFile struct {
	Version int                       `json:"version"`
	Pins    map[string]map[string]Pin `json:"pins"`
}

const pinFileVersion = 1

// maxPinFile bounds the pin file read into memory.
const maxPinFile = 64 << 20

// LoadPins reads the pin file at path. A missing file is an empty store
// (the first use); a file that cannot be read or parsed is an error, never
// an empty trust set.
func LoadPins(path string) (*PinStore, error) {
	s := &PinStore{path: path, pins: map[string]map[string]Pin{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pins: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPinFile+1))
	if err != nil {
		return nil, fmt.Errorf("pins: %s: %w", path, err)
	}
	if len(data) > maxPinFile {
		return nil, fmt.Errorf("pins: %s is larger than %d bytes", path, maxPinFile)
	}
	var pf pinFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("pins: %s is corrupt (%v); restore it from a backup or delete it to start trusting anew", path, err)
	}
	if pf.Version != pinFileVersion {
		return nil, fmt.Errorf("pins: %s has version %d, this program reads version %d", path, pf.Version, pinFileVersion)
	}
	for ch, byName := range pf.Pins {
		for name, p := range byName {
			if p.Issuer == "" || (p.RepositoryID == "" && p.Repository == "" && p.SAN == "") {
				return nil, fmt.Errorf("pins: %s is corrupt: the pin of %s on %s names no signer", path, name, ch)
			}
		}
	}
	pins, err := rekeyPins(pf.Pins)
	if err != nil {
		return nil, fmt.Errorf("pins: %s: %w", path, err)
	}
	s.pins = pins
	return s, nil
}

// rekeyPins keys pins by the canonical form of their channel URLs, which
// may have changed since the file was written (a canonical form that folds
// more spellings together): a pin must not be lost to a respelling, which
// would reset trust on first use. Two spellings that pin different signers
// of one package are an error: which one is right is for a person to say.
func rekeyPins(in map[string]map[string]Pin) (map[string]map[string]Pin, error) {
	out := make(map[string]map[string]Pin, len(in))
	chans := slices.Sorted(maps.Keys(in)) // errors name the same pair each time
	for _, ch := range chans {
		canon, err := fetch.NormalizeChannel(ch)
		if err != nil {
			return nil, fmt.Errorf("the channel %s of a pin cannot be used: %w; remove its pins, or restore the file from a backup", redactChannel(ch), err)
		}
		if out[canon] == nil {
			out[canon] = make(map[string]Pin, len(in[ch]))
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
func (s *PinStore) Get(channel, name string) (Pin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[channel][name]
	return p, ok
}

// Set records the pin of package name on channel.
func (s *PinStore) Set(channel, name string, p Pin) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pins[channel] == nil {
		s.pins[channel] = map[string]Pin{}
	}
	s.pins[channel][name] = p
}

// SetIfAbsent records p for package name on channel unless a pin exists;
// then it returns that pin and true. The check and the write are one step.
func (s *PinStore) SetIfAbsent(channel, name string, p Pin) (Pin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pins[channel][name]; ok {
		return old, true
	}
	if s.pins[channel] == nil {
		s.pins[channel] = map[string]Pin{}
	}
	s.pins[channel][name] = p
	return p, false
}

// Len returns the number of pins.
func (s *PinStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.pins {
		n += len(m)
	}
	return n
}

// Save writes the store to its file atomically: a temporary file in the
// same directory, synced, then renamed over the old one.
func (s *PinStore) Save() error {
	s.mu.Lock()
	data, err := json.MarshalIndent(pinFile{Version: pinFileVersion, Pins: s.pins}, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".pins-*.json")
	if err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("pins: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("pins: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	return nil
}
