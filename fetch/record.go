package fetch

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/condasigs/condasigs/internal/recordfield"
	"github.com/condasigs/condasigs/internal/textsafe"
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

// maxRecordSize caps one record of a repodata.json document: the bytes
// from the opening quote of its file name to the closing brace of its
// object, as written (a conda-forge record takes about 1 KiB). Every
// other string and number of the document (in "info", "removed" or any
// other key) is capped alike, and a record may keep at most 64 KiB of
// keys and strings: its file name, the keys of its object (each counted
// 64 bytes above its length, so fewer than 1,024 of them) and the fields
// of [Record]. A document that passes a cap is malformed.
const maxRecordSize = 1 << 20

const (
	// recordKept caps what ScanRepodata keeps of one record; see
	// maxRecordSize.
	recordKept = 64 << 10
	// keyCost is what a key costs of recordKept beyond its length: its
	// place in the scanner's table of keys.
	keyCost = 64
	// maxNesting is the deepest nesting of arrays and objects in a skipped
	// value, as encoding/json's.
	maxNesting = 10000
	// scanBufSize is the scanner's read buffer.
	scanBufSize = 128 << 10
	// noStop is the stop of a scanner outside records and tokens.
	noStop = math.MaxInt64
)

var (
	errRecordTooLarge = fmt.Errorf("larger than the %d bytes a record may take", maxRecordSize)
	errTokenTooLarge  = fmt.Errorf("a string or number longer than %d bytes", maxRecordSize)
	errKeptTooLarge   = fmt.Errorf("its keys and strings take more than the %d bytes a record may keep", recordKept)
	errTooLong        = errors.New("too long")
	errTooDeep        = fmt.Errorf("a value nested deeper than %d", maxNesting)
)

// ScanRepodata reads a repodata.json document from r and calls fn for each
// record under "packages" and "packages.conda", in document order, until fn
// returns false. It reads r once, front to back, and never holds more than
// one record: whatever the size of the channel or of any value in it, a
// scan holds less than 512 KiB (a 128 KiB read buffer, the strings and keys
// of the record at hand, at most 64 KiB each, and a table of keys seen),
// besides the records fn keeps. Values it has no use for are skipped
// without being kept. Several scans at once hold that much each, so n
// concurrent scans of untrusted documents need n × 512 KiB, plus their
// readers' own buffers (an HTTP body decoded from gzip holds about 50 KiB
// more). Cap the reader itself (as [Client.OpenRepodata] does) to bound the
// time spent.
//
// The subdir of a record that does not name its own is the document's
// info.subdir, as for any JSON parser: "info" must then come before the
// records (as conda and rattler write it), since fn has them already when a
// later "info" is read; a document that gives a subdir in a late "info" to
// records without one is malformed. [FindRecords] takes it from "info"
// wherever it is written.
//
// Records are read strictly, as the installer will read them: a key that
// appears twice in a record, or that differs from a known field only in
// case ("SHA256" beside "sha256"), makes the document malformed, because
// parsers disagree on which value wins and a verifier must not check other
// values than the ones the installer uses. The same holds for the keys of
// "info", and for "info", "packages" and "packages.conda" themselves. A
// record, or any other string or number, longer than 1 MiB makes
// the document malformed too, as does nesting deeper than 10,000.
func ScanRepodata(r io.Reader, fn func(Record) bool) error {
	s := newScanner(r)
	if err := s.document(fn); err != nil {
		return malformedRepodata(err)
	}
	if s.subdirless && s.lateSubdir != "" {
		return malformedRepodata(errors.New(`"info" gives a subdir after records without one: write "info" first`))
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

// scanner reads a JSON document through a fixed buffer, decoding the
// strings and numbers it is asked to and skipping the rest without keeping
// it. Every method that needs input the document does not have returns
// inputErr.
type scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int   // buf[pos:end] is read and not yet consumed
	base     int64 // the document offset of buf[0]
	rerr     error // why the reader stopped, io.EOF at the end; sticky
	stop     int64 // the offset past which consuming fails with over
	over     error
	failed   error // over, once stop was passed

	scratch []byte // the key at hand
	arena   []byte // the strings kept of the record at hand
	num     []byte // the number at hand, if short
	numLong bool   // the number at hand did not fit num

	// keys gives each key met in records its slot; the known fields have
	// the first. The table is emptied between records once its keys cost
	// more than recordKept.
	keys     map[string]int
	slots    []keySlot
	keysCost int
	recNo    uint64 // the record at hand, numbered from 1

	nest [maxNesting/64 + 1]uint64 // a bit a level: set for objects

	// subdirless is set once a record without a subdir of its own was
	// read before "info" gave one; lateSubdir is the info.subdir of an
	// "info" that came after records. A document gives a record without a
	// subdir that of its info wherever "info" is written: ScanRepodata
	// refuses such a document (its records were handed over already),
	// FindRecords fills the subdir in after the scan.
	subdirless bool
	lateSubdir string

	// want, when set, picks the records to decode by their file names
	// (FindRecords); the others are skipped (see skim.go).
	want func(filename []byte) bool
	// reference, set by tests only, skips values as the scanner did
	// before skim.go, and turns off skimRecord's shortcut: the reference
	// that the fast paths are tested against.
	reference func(s *scanner, limit int) error
}

type keySlot struct {
	seen    uint64 // the last record that had the key
	variant int    // the field it is a case variant of, or -1
}

type span struct{ from, to int }

func newScanner(r io.Reader) *scanner {
	s := &scanner{r: r, buf: make([]byte, scanBufSize), stop: noStop, num: make([]byte, 0, 32)}
	s.resetKeys()
	return s
}

func (s *scanner) resetKeys() {
	s.keys = make(map[string]int, 2*recordfield.Count)
	s.slots = s.slots[:0]
	for f, name := range recordfield.Names {
		s.keys[name] = f
		s.slots = append(s.slots, keySlot{variant: -1})
	}
	s.keysCost = 0
}

// off is the document offset of the next byte.
func (s *scanner) off() int64 { return s.base + int64(s.pos) }

// fill reads more of the document, keeping what is not consumed yet. It
// reports false when nothing more comes: the reader stopped (s.rerr), or
// the record or token at hand passed its cap (s.failed).
func (s *scanner) fill() bool {
	if s.failed != nil {
		return false
	}
	if s.off() > s.stop {
		s.failed = s.over
		return false
	}
	if s.rerr != nil {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.pos = 0
	}
	if s.end == len(s.buf) {
		return true
	}
	for empty := 0; ; empty++ {
		n, err := s.r.Read(s.buf[s.end:])
		if n < 0 || n > len(s.buf)-s.end {
			s.rerr = fmt.Errorf("the reader returned %d bytes for %d", n, len(s.buf)-s.end)
			return false
		}
		s.end += n
		if err != nil {
			s.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
		if empty == 100 {
			s.rerr = io.ErrNoProgress
			return false
		}
	}
}

// ensure makes n bytes from pos available, if the input has them.
func (s *scanner) ensure(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// inputErr says why the input ended where more was needed.
func (s *scanner) inputErr() error {
	switch {
	case s.failed != nil:
		return s.failed
	case s.rerr == nil || s.rerr == io.EOF:
		return io.ErrUnexpectedEOF
	}
	return s.rerr
}

// peek skips white space and returns the next byte, without consuming it.
func (s *scanner) peek() (byte, bool) {
	for {
		for ; s.pos < s.end; s.pos++ {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// peekRaw returns the next byte, white space or not, without consuming it.
func (s *scanner) peekRaw() (byte, bool) {
	if s.pos == s.end && !s.fill() {
		return 0, false
	}
	return s.buf[s.pos], true
}

func (s *scanner) syntax(c byte, context string) error {
	return fmt.Errorf("invalid character %q %s at offset %d", c, context, s.off())
}

// unexpected is the error for the next byte, or for the input's end.
func (s *scanner) unexpected(context string) error {
	c, ok := s.peekRaw()
	if !ok {
		return s.inputErr()
	}
	return s.syntax(c, context)
}

// expect consumes want, after white space.
func (s *scanner) expect(want byte, context string) error {
	c, ok := s.peek()
	if !ok {
		return s.inputErr()
	}
	if c != want {
		return s.syntax(c, context)
	}
	s.pos++
	return nil
}

// next consumes a comma or the closing delimiter of a container after one
// of its values, and reports whether it was the closing one.
func (s *scanner) next(closing byte) (done bool, err error) {
	c, ok := s.peek()
	switch {
	case !ok:
		return false, s.inputErr()
	case c == ',':
		s.pos++
		return false, nil
	case c == closing:
		s.pos++
		return true, nil
	}
	return false, s.syntax(c, "after a value")
}

// open consumes the opening brace of an object and reports whether the
// object is empty (and consumed whole).
func (s *scanner) open() (empty bool, err error) {
	s.pos++ // the brace, peeked already
	c, ok := s.peek()
	if !ok {
		return false, s.inputErr()
	}
	if c == '}' {
		s.pos++
		return true, nil
	}
	return false, nil
}

// capToken caps the string or number about to be read at maxRecordSize
// when no record's cap applies, and reports whether it did.
func (s *scanner) capToken() bool {
	if s.stop != noStop {
		return false
	}
	s.stop, s.over = s.off()+maxRecordSize, errTokenTooLarge
	return true
}

// endToken checks the cap at the end of a string or number, and lifts the
// token's own cap.
func (s *scanner) endToken(capped bool) error {
	if s.off() > s.stop {
		s.failed = s.over
		return s.over
	}
	if capped {
		s.stop, s.over = noStop, nil
	}
	return nil
}

// strStop marks the bytes that end a run of plain bytes in a string being
// skipped: the quote, the backslash and control characters. decodeStop
// marks non-ASCII bytes too, which decoding checks.
var strStop, decodeStop = func() (skip, decode [256]bool) {
	for c := range 256 {
		skip[c] = c < 0x20 || c == '"' || c == '\\'
		decode[c] = skip[c] || c >= utf8.RuneSelf
	}
	return skip, decode
}()

// skipString skips the string at pos (at its quote), checking it and
// keeping nothing.
func (s *scanner) skipString() error {
	capped := s.capToken()
	s.pos++
	for {
		for i, c := range s.buf[s.pos:s.end] {
			if strStop[c] {
				s.pos += i
				goto special
			}
		}
		s.pos = s.end
		if !s.fill() {
			return s.inputErr()
		}
		continue
	special:
		switch c := s.buf[s.pos]; c {
		case '"':
			s.pos++
			return s.endToken(capped)
		case '\\':
			if _, err := s.escape(); err != nil {
				return err
			}
		default:
			return s.syntax(c, "in a string")
		}
	}
}

// str decodes the string at pos (at its quote) as encoding/json does, and
// appends it to dst: invalid UTF-8 and lone surrogates become U+FFFD. It
// fails with errTooLong once more than max bytes would be appended.
func (s *scanner) str(dst []byte, max int) ([]byte, error) {
	limit := len(dst) + max
	s.pos++
	for {
		start := s.pos
		for i, c := range s.buf[start:s.end] {
			if decodeStop[c] {
				s.pos = start + i
				goto special
			}
		}
		s.pos = s.end
		if len(dst)+s.pos-start > limit {
			return dst, errTooLong
		}
		dst = append(dst, s.buf[start:s.pos]...)
		if !s.fill() {
			return dst, s.inputErr()
		}
		continue
	special:
		if len(dst)+s.pos-start > limit {
			return dst, errTooLong
		}
		dst = append(dst, s.buf[start:s.pos]...)
		switch c := s.buf[s.pos]; {
		case c == '"':
			s.pos++
			return dst, s.endToken(false)
		case c == '\\':
			r, err := s.escape()
			if err != nil {
				return dst, err
			}
			dst = utf8.AppendRune(dst, r)
		case c < 0x20:
			return dst, s.syntax(c, "in a string")
		default:
			s.ensure(utf8.UTFMax) // or as many as there are
			r, size := utf8.DecodeRune(s.buf[s.pos:s.end])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, s.buf[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
		if len(dst) > limit {
			return dst, errTooLong
		}
	}
}

// escape decodes the escape sequence at pos (at its backslash). A high
// surrogate followed by an escaped low one makes one rune; any other
// surrogate is U+FFFD, as with encoding/json.
func (s *scanner) escape() (rune, error) {
	if !s.ensure(2) {
		return 0, s.inputErr()
	}
	c := s.buf[s.pos+1]
	switch c {
	case '"', '\\', '/':
		s.pos += 2
		return rune(c), nil
	case 'b':
		s.pos += 2
		return '\b', nil
	case 'f':
		s.pos += 2
		return '\f', nil
	case 'n':
		s.pos += 2
		return '\n', nil
	case 'r':
		s.pos += 2
		return '\r', nil
	case 't':
		s.pos += 2
		return '\t', nil
	case 'u':
		if !s.ensure(6) {
			return 0, s.unexpectedIn(s.end)
		}
		r, ok := hex4(s.buf[s.pos+2 : s.pos+6])
		if !ok {
			return 0, s.unexpectedIn(s.pos + 6)
		}
		s.pos += 6
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if s.ensure(6) && s.buf[s.pos] == '\\' && s.buf[s.pos+1] == 'u' {
			if r2, ok := hex4(s.buf[s.pos+2 : s.pos+6]); ok {
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					s.pos += 6
					return d, nil
				}
			}
		}
		return unicode.ReplacementChar, nil
	}
	s.pos++
	return 0, s.syntax(c, "in a string escape")
}

// unexpectedIn is the error for the first byte of buf[pos+2:to] that is
// not a hex digit, or for the input's end.
func (s *scanner) unexpectedIn(to int) error {
	for i := s.pos + 2; i < to; i++ {
		if _, ok := hexVal(s.buf[i]); !ok {
			s.pos = i
			return s.syntax(s.buf[i], "in a \\u escape")
		}
	}
	return s.inputErr()
}

func hexVal(c byte) (rune, bool) {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0'), true
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10, true
	}
	return 0, false
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		v, ok := hexVal(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | v
	}
	return r, true
}

// number reads the number at pos, keeping it in s.num when it fits.
func (s *scanner) number() error {
	capped := s.capToken()
	s.num, s.numLong = s.num[:0], false
	if s.buf[s.pos] == '-' {
		s.keepNum(s.pos + 1)
	}
	c, ok := s.peekRaw()
	switch {
	case !ok:
		return s.inputErr()
	case c == '0':
		s.keepNum(s.pos + 1)
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return s.syntax(c, "in a number")
	}
	if c, ok := s.peekRaw(); ok && c == '.' {
		s.keepNum(s.pos + 1)
		if s.digits() == 0 {
			return s.unexpected("in a number")
		}
	}
	if c, ok := s.peekRaw(); ok && (c == 'e' || c == 'E') {
		s.keepNum(s.pos + 1)
		if c, ok := s.peekRaw(); ok && (c == '+' || c == '-') {
			s.keepNum(s.pos + 1)
		}
		if s.digits() == 0 {
			return s.unexpected("in a number")
		}
	}
	return s.endToken(capped)
}

// keepNum consumes buf[pos:to], keeping it in s.num if it fits.
func (s *scanner) keepNum(to int) {
	if len(s.num)+to-s.pos <= cap(s.num) {
		s.num = append(s.num, s.buf[s.pos:to]...)
	} else {
		s.numLong = true
	}
	s.pos = to
}

// digits consumes a run of decimal digits and returns its length.
func (s *scanner) digits() int64 {
	var n int64
	for {
		i := s.pos
		for i < s.end && '0' <= s.buf[i] && s.buf[i] <= '9' {
			i++
		}
		n += int64(i - s.pos)
		s.keepNum(i)
		if i < s.end || !s.fill() {
			return n
		}
	}
}

// int64Of reads a number kept by number as encoding/json reads it into an
// int64: an integer in range, without fraction or exponent.
func int64Of(b []byte, long bool) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if long || len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' || u > (1<<63)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true // -(1<<63) wraps to itself
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// literal reads the true, false or null at pos.
func (s *scanner) literal() error {
	word := "null"
	switch s.buf[s.pos] {
	case 't':
		word = "true"
	case 'f':
		word = "false"
	}
	for i := range len(word) {
		c, ok := s.peekRaw()
		if !ok {
			return s.inputErr()
		}
		if c != word[i] {
			return s.syntax(c, "in a literal")
		}
		s.pos++
	}
	return nil
}

// key decodes an object's key into s.scratch and consumes its colon. A key
// longer than max bytes fails with errTooLong.
func (s *scanner) key(max int) error {
	c, ok := s.peek()
	if !ok {
		return s.inputErr()
	}
	if c != '"' {
		return s.syntax(c, "looking for an object key")
	}
	var err error
	if s.scratch, err = s.str(s.scratch[:0], max); err != nil {
		return err
	}
	return s.expect(':', "after an object key")
}

// document reads the whole document.
func (s *scanner) document(fn func(Record) bool) error {
	c, ok := s.peek()
	if !ok {
		return s.inputErr()
	}
	if c != '{' {
		return s.syntax(c, "looking for the beginning of the document")
	}
	empty, err := s.open()
	if err != nil {
		return err
	}
	var infoSubdir string
	var seen [3]bool // info, packages, packages.conda
	for !empty {
		if err := s.key(recordKept); err != nil {
			if err == errTooLong {
				err = fmt.Errorf("a key longer than %d bytes", recordKept)
			}
			return err
		}
		i := -1
		switch string(s.scratch) {
		case "info":
			i = 0
		case "packages":
			i = 1
		case "packages.conda":
			i = 2
		}
		if i >= 0 {
			if seen[i] {
				return fmt.Errorf("key %q appears twice", s.scratch)
			}
			seen[i] = true
		}
		switch i {
		case 0:
			if infoSubdir, err = s.info(); err != nil {
				return fmt.Errorf("info: %w", err)
			}
			if seen[1] || seen[2] {
				s.lateSubdir = infoSubdir
			}
		case 1, 2:
			stop, err := s.records(infoSubdir, fn)
			if err != nil || stop {
				return err
			}
		default:
			if err := s.skipValue(); err != nil {
				return err
			}
		}
		if empty, err = s.next('}'); err != nil {
			return err
		}
	}
	if c, ok := s.peek(); ok {
		return fmt.Errorf("trailing data after the document, from %q at offset %d", c, s.off())
	}
	if s.rerr != io.EOF {
		return s.inputErr() // a reader failure (e.g. too large) keeps its kind
	}
	return nil
}

// info reads the object of the document's "info" and returns its subdir.
func (s *scanner) info() (string, error) {
	c, ok := s.peek()
	switch {
	case !ok:
		return "", s.inputErr()
	case c == 'n':
		return "", s.literal()
	case c != '{':
		return "", errors.New("not an object")
	}
	empty, err := s.open()
	if err != nil {
		return "", err
	}
	var subdir string
	seen := map[string]bool{}
	kept := recordKept
	for !empty {
		if err := s.key(kept - keyCost); err != nil {
			if err == errTooLong {
				err = fmt.Errorf("its keys and strings take more than %d bytes", recordKept)
			}
			return "", err
		}
		kept -= len(s.scratch) + keyCost
		key := string(s.scratch)
		switch {
		case seen[key]:
			return "", fmt.Errorf("key %s appears twice", textsafe.Quote(key))
		case key == "subdir":
			if subdir, err = s.stringField(key, kept); err != nil {
				return "", err
			}
			kept -= len(subdir)
		case strings.EqualFold(key, "subdir"):
			return "", fmt.Errorf("key %s differs from %q only in case", textsafe.Quote(key), "subdir")
		default:
			if err := s.skipValue(); err != nil {
				return "", err
			}
		}
		seen[key] = true
		if empty, err = s.next('}'); err != nil {
			return "", err
		}
	}
	return subdir, nil
}

// stringField decodes a string or null (as "") of at most max bytes.
func (s *scanner) stringField(key string, max int) (string, error) {
	c, ok := s.peek()
	switch {
	case !ok:
		return "", s.inputErr()
	case c == 'n':
		return "", s.literal()
	case c != '"':
		return "", fmt.Errorf("%s: a string expected, got %q", key, c)
	}
	var err error
	if s.scratch, err = s.str(s.scratch[:0], max); err != nil {
		if err == errTooLong {
			err = fmt.Errorf("%s: longer than %d bytes", key, max)
		}
		return "", err
	}
	return string(s.scratch), nil
}

// records reads the object of "packages" or "packages.conda", calling fn
// for each record, and reports whether fn stopped the scan.
func (s *scanner) records(infoSubdir string, fn func(Record) bool) (stop bool, err error) {
	c, ok := s.peek()
	switch {
	case !ok:
		return false, s.inputErr()
	case c == 'n':
		return false, s.literal()
	case c != '{':
		return false, errors.New("package records are not an object")
	}
	empty, err := s.open()
	for !empty && err == nil {
		skipped := false
		if s.want != nil {
			skipped, err = s.skimRecord()
		} else {
			err = s.filename()
		}
		if err != nil {
			return false, err
		}
		if skipped {
			empty, err = s.next('}')
			continue
		}
		var rec Record
		if rec, err = s.record(); err != nil {
			return false, err
		}
		if rec.Subdir == "" {
			rec.Subdir = infoSubdir
			s.subdirless = s.subdirless || infoSubdir == ""
		}
		if !fn(rec) {
			return true, nil
		}
		empty, err = s.next('}')
	}
	return false, err
}

// filename reads a record's file name into s.arena, and puts the record
// under maxRecordSize.
func (s *scanner) filename() error {
	c, ok := s.peek()
	if !ok {
		return s.inputErr()
	}
	if c != '"' {
		return s.syntax(c, "looking for a file name")
	}
	s.stop, s.over = s.off()+maxRecordSize, errRecordTooLarge
	var err error
	if s.arena, err = s.str(s.arena[:0], recordKept); err != nil {
		if err == errTooLong {
			err = fmt.Errorf("a file name longer than %d bytes", recordKept)
		}
		return err
	}
	if len(s.arena) == 0 {
		return errors.New("a record with an empty file name")
	}
	return nil
}

// record reads the object of the record whose file name filename read.
func (s *scanner) record() (Record, error) {
	var rec Record
	n := len(s.arena)
	spans, err := s.fields(&rec, recordKept-n)
	if err == nil && s.off() > s.stop {
		err = s.over
	}
	if err != nil {
		return rec, fmt.Errorf("record %s: %w", textsafe.Quote(string(s.arena[:n])), err)
	}
	s.stop, s.over = noStop, nil
	all := string(s.arena) // one allocation for all the strings of the record
	rec.Filename = all[:n]
	for f, sp := range spans {
		if sp.to == sp.from {
			continue
		}
		v := all[sp.from:sp.to]
		switch f {
		case recordfield.Name:
			rec.Name = v
		case recordfield.Version:
			rec.Version = v
		case recordfield.Build:
			rec.Build = v
		case recordfield.Subdir:
			rec.Subdir = v
		case recordfield.SHA256:
			rec.SHA256 = v
		case recordfield.MD5:
			rec.MD5 = v
		case recordfield.Attestations:
			rec.AttestationsSHA256 = v
		}
	}
	return rec, nil
}

// fields reads a record's object strictly: known keys exactly once, no
// case variants of them, other keys once and skipped. The strings of rec
// are appended to s.arena, at most kept bytes of them and of the keys,
// at the spans returned.
func (s *scanner) fields(rec *Record, kept int) (spans [recordfield.Count]span, err error) {
	if err := s.expect(':', "after a file name"); err != nil {
		return spans, err
	}
	c, ok := s.peek()
	if !ok {
		return spans, s.inputErr()
	}
	if c != '{' {
		return spans, errors.New("not an object")
	}
	empty, err := s.open()
	if err != nil {
		return spans, err
	}
	s.recNo++
	if s.keysCost > recordKept {
		s.resetKeys()
	}
	for !empty {
		if err := s.key(kept - keyCost); err != nil {
			if err == errTooLong {
				err = errKeptTooLarge
			}
			return spans, err
		}
		kept -= len(s.scratch) + keyCost
		f, err := s.slot()
		if err != nil {
			return spans, err
		}
		if f < recordfield.Count {
			if err := s.field(f, rec, &spans, &kept); err != nil {
				return spans, fmt.Errorf("%s: %w", recordfield.Names[f], err)
			}
		} else if err := s.skipValue(); err != nil {
			return spans, err
		}
		if empty, err = s.next('}'); err != nil {
			return spans, err
		}
	}
	return spans, nil
}

// slot returns the slot of the key in s.scratch, failing when the record
// at hand had it already or when it is a case variant of a known field.
func (s *scanner) slot() (int, error) {
	i, ok := s.keys[string(s.scratch)]
	if !ok {
		key := string(s.scratch)
		variant := -1
		for f, name := range recordfield.Names {
			if strings.EqualFold(key, name) {
				variant = f
				break
			}
		}
		i = len(s.slots)
		s.keys[key] = i
		s.slots = append(s.slots, keySlot{variant: variant})
		s.keysCost += len(key) + keyCost
	}
	sl := &s.slots[i]
	if sl.seen == s.recNo {
		return 0, fmt.Errorf("key %s appears twice", textsafe.Quote(string(s.scratch)))
	}
	sl.seen = s.recNo
	if sl.variant >= 0 {
		return 0, fmt.Errorf("key %s differs from %q only in case", textsafe.Quote(string(s.scratch)), recordfield.Names[sl.variant])
	}
	return i, nil
}

// field decodes the value of the known field f.
func (s *scanner) field(f int, rec *Record, spans *[recordfield.Count]span, kept *int) error {
	c, ok := s.peek()
	if !ok {
		return s.inputErr()
	}
	if c == 'n' { // null leaves the field as it is: empty
		if f == recordfield.Attestations {
			rec.advertisedEmpty = true
		}
		return s.literal()
	}
	if f == recordfield.BuildNumber || f == recordfield.Size {
		if c != '-' && (c < '0' || c > '9') {
			return fmt.Errorf("a number expected, got %q", c)
		}
		if err := s.number(); err != nil {
			return err
		}
		v, ok := int64Of(s.num, s.numLong)
		if !ok {
			return fmt.Errorf("not an integer of 64 bits: %s", s.num)
		}
		if f == recordfield.Size {
			rec.Size = v
		} else {
			rec.BuildNumber = v
		}
		return nil
	}
	if c != '"' {
		return fmt.Errorf("a string expected, got %q", c)
	}
	from := len(s.arena)
	var err error
	if s.arena, err = s.str(s.arena, *kept); err != nil {
		if err == errTooLong {
			err = errKeptTooLarge
		}
		return err
	}
	*kept -= len(s.arena) - from
	spans[f] = span{from, len(s.arena)}
	if f == recordfield.Attestations && len(s.arena) == from {
		rec.advertisedEmpty = true
	}
	return nil
}
