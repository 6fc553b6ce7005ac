package fetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Record is one package record of a repodata.json file (or of a CEP 16
// shard): the fields a verifier needs, and the common metadata for reports.
type Record struct {
	// Filename is the package's file name, e.g. "numpy-2.1.0-py312_0.conda".
	// It is the record's key in repodata, not a field of the record itself.
	Filename    string `json:"-"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Build       string `json:"build"`
	BuildNumber int64  `json:"build_number"`
	Subdir      string `json:"subdir,omitempty"`
	Size        int64  `json:"size,omitempty"`
	// SHA256 is the package file's SHA-256, lowercase hex, as published.
	SHA256 string `json:"sha256,omitempty"`
	MD5    string `json:"md5,omitempty"`
	// AttestationsSHA256 is CEP 50's attestations_sha256: the SHA-256 of the
	// sidecar's bytes. Empty when the package has no attestations.
	AttestationsSHA256 string `json:"attestations_sha256,omitempty"`

	// advertisedEmpty records that repodata had the attestations_sha256
	// key with an empty or null value: an invalid advertisement (a
	// retrieval failure), not the absence of one.
	advertisedEmpty bool
}

// HasAttestations reports whether the record advertises a sidecar: its
// repodata had an attestations_sha256 key, whatever its value, or
// AttestationsSHA256 is set.
func (r Record) HasAttestations() bool { return r.advertisedEmpty || r.AttestationsSHA256 != "" }

// ScanRepodata reads a repodata.json document from r and calls fn for each
// record under "packages" and "packages.conda", in document order, until fn
// returns false. Records are decoded one at a time, so memory stays bounded
// by the largest record, whatever the size of the channel; cap the reader
// itself (as [Client.OpenRepodata] does) to bound the time spent.
//
// The subdir of a record that does not name its own is taken from the
// document's info.subdir when that came first.
//
// Records are read strictly, as the installer will read them: a key that
// appears twice in a record, or that differs from a known field only in
// case ("SHA256" beside "sha256"), makes the document malformed, because
// parsers disagree on which value wins and a verifier must not check other
// values than the ones the installer uses.
func ScanRepodata(r io.Reader, fn func(Record) bool) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	var infoSubdir string
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return err
		}
		switch key {
		case "packages", "packages.conda":
			stop, err := scanRecords(dec, infoSubdir, fn)
			if err != nil || stop {
				return err
			}
		case "info":
			var info struct {
				Subdir string `json:"subdir"`
			}
			if err := dec.Decode(&info); err != nil {
				return malformedRepodata(err)
			}
			infoSubdir = info.Subdir
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return malformedRepodata(err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("trailing data after the document")
		}
		return malformedRepodata(err) // a reader failure (e.g. too large) keeps its kind
	}
	return nil
}

// FindRecord scans repodata for the record of filename. It reads the whole
// document, and a filename listed twice makes it malformed: parsers
// disagree on which record wins.
func FindRecord(r io.Reader, filename string) (Record, error) {
	var found []Record
	err := ScanRepodata(r, func(rec Record) bool {
		if rec.Filename == filename {
			found = append(found, rec)
		}
		return true
	})
	switch {
	case err != nil:
		return Record{}, err
	case len(found) == 0:
		return Record{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no record for %q in repodata", filename)}
	case len(found) > 1:
		return Record{}, malformedRepodata(fmt.Errorf("%q has %d records", filename, len(found)))
	}
	return found[0], nil
}

func scanRecords(dec *json.Decoder, infoSubdir string, fn func(Record) bool) (stop bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, malformedRepodata(err)
	}
	if tok == nil { // "packages": null
		return false, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return false, malformedRepodata(fmt.Errorf("package records are not an object"))
	}
	for dec.More() {
		filename, err := objectKey(dec)
		if err != nil {
			return false, err
		}
		if filename == "" {
			return false, malformedRepodata(fmt.Errorf("a record with an empty file name"))
		}
		rec, err := decodeRecord(dec)
		if err != nil {
			return false, malformedRepodata(fmt.Errorf("record %q: %w", filename, err))
		}
		rec.Filename = filename
		if rec.Subdir == "" {
			rec.Subdir = infoSubdir
		}
		if !fn(rec) {
			return true, nil
		}
	}
	return false, expectDelim(dec, '}')
}

// recordFields decode the known keys of a record, exactly as spelled.
var recordFields = map[string]func(*json.Decoder, *Record) error{
	"name":         func(d *json.Decoder, r *Record) error { return d.Decode(&r.Name) },
	"version":      func(d *json.Decoder, r *Record) error { return d.Decode(&r.Version) },
	"build":        func(d *json.Decoder, r *Record) error { return d.Decode(&r.Build) },
	"build_number": func(d *json.Decoder, r *Record) error { return d.Decode(&r.BuildNumber) },
	"subdir":       func(d *json.Decoder, r *Record) error { return d.Decode(&r.Subdir) },
	"size":         func(d *json.Decoder, r *Record) error { return d.Decode(&r.Size) },
	"sha256":       func(d *json.Decoder, r *Record) error { return d.Decode(&r.SHA256) },
	"md5":          func(d *json.Decoder, r *Record) error { return d.Decode(&r.MD5) },
	"attestations_sha256": func(d *json.Decoder, r *Record) error {
		err := d.Decode(&r.AttestationsSHA256)
		r.advertisedEmpty = r.AttestationsSHA256 == ""
		return err
	},
}

// decodeRecord reads one record object strictly: known keys exactly once,
// no case variants of them, other keys skipped.
func decodeRecord(dec *json.Decoder) (Record, error) {
	var rec Record
	tok, err := dec.Token()
	if err != nil {
		return rec, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rec, fmt.Errorf("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return rec, err
		}
		if seen[key] {
			return rec, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		if decode, ok := recordFields[key]; ok {
			if err := decode(dec, &rec); err != nil {
				return rec, fmt.Errorf("%s: %w", key, err)
			}
			continue
		}
		for known := range recordFields {
			if strings.EqualFold(key, known) {
				return rec, fmt.Errorf("key %q differs from %q only in case", key, known)
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return rec, err
		}
	}
	_, err = dec.Token() // the closing '}', guaranteed by More
	return rec, err
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", malformedRepodata(err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", malformedRepodata(fmt.Errorf("expected an object key, got %v", tok))
	}
	return key, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return malformedRepodata(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return malformedRepodata(fmt.Errorf("expected %q, got %v", want, tok))
	}
	return nil
}

func malformedRepodata(err error) error {
	var fe *Error
	if errors.As(err, &fe) { // a failure of the reader itself, e.g. too large
		return err
	}
	return &Error{Kind: KindMalformed, Msg: "invalid repodata.json", Err: err}
}
