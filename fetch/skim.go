package fetch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/condasigs/condasigs/internal/textsafe"
)

// Skimming: how FindRecords reads a document fast.
//
// FindRecords reads the document with the strict scanner of ScanRepodata,
// with two shortcuts that change what is read, never how it is read:
//
//   - A record's file name is looked up among the wanted ones as written
//     when it is written plainly (ASCII without a backslash or a control
//     character), and decoded as before otherwise. A plain name is its own
//     decoding, so both ways give the same name: "foo\u002d1.conda" is the
//     file "foo-1.conda", wanted or counted as such, however it is written.
//   - A record whose file name is not wanted is skipped like any other value
//     the scanner has no use for: its object is checked as JSON and nothing
//     of it is kept or decoded. A wanted record is decoded exactly as
//     ScanRepodata decodes it, every time it appears.
//
// A name with a byte outside ASCII is decoded too, since decoding turns
// invalid UTF-8 into U+FFFD. So a record that is not wanted is held to
// JSON's grammar, to a file name that is not empty and under 64 KiB, to an
// object, and to the caps (1 MiB a record, nesting), but not to the rules
// of a record's content: its keys may repeat or differ in case, its fields
// may have any type and its strings any length under the record's cap.
// None of that changes where a record begins or ends, and the verifier
// reads no value of it; a full decode (ScanRepodata) still rejects it.
//
// Skipping (skipNested) is one loop over the read buffer with a state for
// each place of JSON's grammar, so structure is checked as strictly as by
// encoding/json: only white space, the six structural characters, strings,
// numbers and true, false and null outside strings, in their places
// ("[}", "[1,]", "{1:2}", comments, single quotes and bare words fail), and
// nesting to maxNesting. Strings are searched for their end eight bytes at
// a time, and their escapes are checked, "\u" with four hex digits; control
// characters in strings fail, as with encoding/json, and numbers follow
// JSON's grammar in full. What skipping does not check is what the scanner
// never checked and encoding/json does not either: that the bytes of a
// string are valid UTF-8. That cannot move a boundary: a string ends at the
// first quote not escaped by a backslash, and the quote and backslash are
// ASCII, which in UTF-8 never appears inside the encoding of another
// character, so any parser that decodes UTF-8 (or replaces what it cannot
// decode, as encoding/json does) ends the string at the same byte. A token
// cut by the end of the read buffer is read by the scanner's own methods,
// which read on; those apply every check above and the caps.

// Byte classes outside strings.
const (
	clInvalid = iota
	clSpace
	clQuote
	clOpenObject
	clOpenArray
	clCloseObject
	clCloseArray
	clComma
	clColon
	clLiteral // t, f, n
	clNumber  // -, 0-9
)

var skipClass = func() (t [256]uint8) {
	for _, c := range " \t\r\n" {
		t[c] = clSpace
	}
	t['"'] = clQuote
	t['{'], t['['], t['}'], t[']'] = clOpenObject, clOpenArray, clCloseObject, clCloseArray
	t[','], t[':'] = clComma, clColon
	t['t'], t['f'], t['n'] = clLiteral, clLiteral, clLiteral
	t['-'] = clNumber
	for c := '0'; c <= '9'; c++ {
		t[c] = clNumber
	}
	return t
}()

// What skipNested expects next.
const (
	wantValue        = iota // after a colon, or a comma in an array
	wantValueOrClose        // after "["
	wantKey                 // after a comma in an object
	wantKeyOrClose          // after "{"
	wantColon               // after a key
	wantCommaOrClose        // after a value in an array or object
)

// skipValue checks and skips the value at the input, keeping nothing.
func (s *scanner) skipValue() error { return s.skipNested(maxNesting) }

// skipNested checks and skips the value at the input, keeping nothing, with
// arrays and objects nested at most limit deep (counting the value itself).
// It reads the read buffer directly, and leaves a token that the buffer's
// end cuts to the scanner's methods that read on (skipString, number,
// literal). The nesting is a bit a level in s.nest, set for objects.
func (s *scanner) skipNested(limit int) error {
	if s.reference != nil { // tests only: the scanner as it was
		return s.reference(s, limit)
	}
	depth := 0
	expect := wantValue
	buf := s.buf
	pos, end := s.pos, s.end
	for {
		if pos >= end {
			s.pos = pos
			if !s.fill() {
				return s.inputErr()
			}
			pos, end = s.pos, s.end
			continue
		}
		c := buf[pos]
		cl := skipClass[c]
		if cl == clSpace {
			pos++
			continue
		}
		switch cl {
		case clQuote:
			key := expect == wantKey || expect == wantKeyOrClose
			if !key && expect != wantValue && expect != wantValueOrClose {
				s.pos = pos
				return s.syntax(c, "after a value")
			}
			next, bad := stringEnd(buf[:end], pos+1)
			switch {
			case bad >= 0:
				s.pos = bad
				return s.syntax(buf[bad], "in a string")
			case next < 0: // cut by the buffer's end
				s.pos = pos
				if err := s.skipString(); err != nil {
					return err
				}
				pos, end = s.pos, s.end
			default:
				pos = next
			}
			if key {
				expect = wantColon
				continue
			}
		case clColon:
			if expect != wantColon {
				s.pos = pos
				return s.syntax(c, s.context(expect))
			}
			pos++
			expect = wantValue
			continue
		case clComma:
			if expect != wantCommaOrClose {
				s.pos = pos
				return s.syntax(c, s.context(expect))
			}
			pos++
			if s.inObject(depth) {
				expect = wantKey
			} else {
				expect = wantValue
			}
			continue
		case clOpenObject, clOpenArray:
			if expect != wantValue && expect != wantValueOrClose {
				s.pos = pos
				return s.syntax(c, s.context(expect))
			}
			if depth == limit {
				s.pos = pos
				return errTooDeep
			}
			bit := uint64(1) << (depth % 64)
			if cl == clOpenObject {
				s.nest[depth/64] |= bit
				expect = wantKeyOrClose
			} else {
				s.nest[depth/64] &^= bit
				expect = wantValueOrClose
			}
			depth++
			pos++
			continue
		case clCloseObject, clCloseArray:
			object := cl == clCloseObject
			ok := expect == wantCommaOrClose && s.inObject(depth) == object ||
				object && expect == wantKeyOrClose ||
				!object && expect == wantValueOrClose
			if !ok {
				s.pos = pos
				return s.syntax(c, s.context(expect))
			}
			pos++
			depth--
		case clLiteral:
			if expect != wantValue && expect != wantValueOrClose {
				s.pos = pos
				return s.syntax(c, s.context(expect))
			}
			word := "null"
			if c == 't' {
				word = "true"
			} else if c == 'f' {
				word = "false"
			}
			if end-pos >= len(word) && string(buf[pos:pos+len(word)]) == word {
				pos += len(word)
			} else {
				s.pos = pos // cut by the buffer's end, or not the word
				if err := s.literal(); err != nil {
					return err
				}
				pos, end = s.pos, s.end
			}
		case clNumber:
			if expect != wantValue && expect != wantValueOrClose {
				s.pos = pos
				return s.syntax(c, s.context(expect))
			}
			next := numberEnd(buf[:end], pos)
			if next < 0 { // cut by the buffer's end, or not a number
				s.pos = pos
				if err := s.number(); err != nil {
					return err
				}
				pos, end = s.pos, s.end
			} else {
				pos = next
			}
		default:
			s.pos = pos
			return s.syntax(c, s.context(expect))
		}
		// After a value.
		if depth == 0 {
			s.pos = pos
			return nil
		}
		expect = wantCommaOrClose
	}
}

// inObject reports whether the innermost of depth open containers is an
// object.
func (s *scanner) inObject(depth int) bool {
	return depth > 0 && s.nest[(depth-1)/64]&(uint64(1)<<((depth-1)%64)) != 0
}

// context names what skipNested expected, for its errors.
func (s *scanner) context(expect int) string {
	switch expect {
	case wantKey, wantKeyOrClose:
		return "looking for an object key"
	case wantColon:
		return "after an object key"
	case wantCommaOrClose:
		return "after a value"
	}
	return "looking for the beginning of a value"
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// stringStops returns, in the high bit of each of the eight bytes of w,
// whether the first such byte is a quote, a backslash or a control
// character: the lowest set bit marks the first, exactly (bits above it may
// be set falsely).
func stringStops(w uint64) uint64 {
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return ((q-ones)&^q | (b-ones)&^b | (w-0x20*ones)&^w) & highs
}

// stringEnd finds the end of the string whose contents start at b[i]: it
// returns the index past the closing quote, or -1 when b ends first. bad is
// the index of an invalid byte (a control character, or a bad escape) when
// there is one before the end, and -1 otherwise.
func stringEnd(b []byte, i int) (next, bad int) {
	for {
		for i+8 <= len(b) {
			if m := stringStops(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				goto stop
			}
			i += 8
		}
		for ; i < len(b); i++ {
			if strStop[b[i]] {
				goto stop
			}
		}
		return -1, -1
	stop:
		switch b[i] {
		case '"':
			return i + 1, -1
		case '\\':
			if i+1 >= len(b) {
				return -1, -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) {
						return -1, -1
					}
					if _, ok := hexVal(b[k]); !ok {
						return -1, k
					}
				}
				i += 6
			default:
				return -1, i + 1
			}
		default:
			return -1, i
		}
	}
}

// numberEnd returns the index past the number at b[i], or -1 when b ends
// before the number does, or when it is not a number by JSON's grammar
// (which the scanner's number method then reports).
func numberEnd(b []byte, i int) int {
	n := len(b)
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= n:
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i++
		for i < n && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < n && b[i] == '.' {
		i++
		from := i
		for i < n && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == from {
			return -1
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		from := i
		for i < n && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == from {
			return -1
		}
	}
	if i >= n { // the number may go on past the buffer
		return -1
	}
	return i
}

// plainKey returns the contents of the string at pos (at its quote) when
// they are in the buffer and written plainly, ASCII without a backslash or
// a control character, so that they are their own decoding; or nil.
func (s *scanner) plainKey() []byte {
	b := s.buf[:s.end]
	from := s.pos + 1
	i := from
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		if m := stringStops(w) | w&highs; m != 0 {
			i += bits.TrailingZeros64(m) / 8
			goto stop
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if decodeStop[b[i]] {
			goto stop
		}
	}
	return nil
stop:
	if b[i] != '"' || i-from > recordKept {
		return nil
	}
	return b[from:i]
}

// skimRecord reads the file name of the record at the input and, when
// s.want does not want it, skips the record, checked as JSON and under
// maxRecordSize, and reports true. Otherwise the file name is in s.arena,
// and the scanner is past it, under the record's cap, as after filename.
func (s *scanner) skimRecord() (skipped bool, err error) {
	c, ok := s.peek()
	if !ok {
		return false, s.inputErr()
	}
	if c != '"' {
		return false, s.syntax(c, "looking for a file name")
	}
	if s.reference == nil {
		if name := s.plainKey(); len(name) > 0 {
			s.arena = append(s.arena[:0], name...)
			s.stop, s.over = s.off()+maxRecordSize, errRecordTooLarge
			s.pos += len(name) + 2
			if s.want(s.arena) {
				return false, nil
			}
			return true, s.skipRecord()
		}
	}
	if err := s.filename(); err != nil {
		return false, err
	}
	if s.want(s.arena) {
		return false, nil
	}
	return true, s.skipRecord()
}

// skipRecord skips the rest of a record that is not wanted, from the end
// of its file name (in s.arena).
func (s *scanner) skipRecord() error {
	err := s.expect(':', "after a file name")
	if err == nil {
		if c, ok := s.peek(); !ok {
			err = s.inputErr()
		} else if c != '{' {
			err = errors.New("not an object")
		}
	}
	if err == nil {
		// The record's object is one level more than fields counts.
		err = s.skipNested(maxNesting + 1)
	}
	if err == nil && s.off() > s.stop {
		err = s.over
	}
	if err != nil {
		return fmt.Errorf("record %s: %w", textsafe.Quote(string(s.arena)), err)
	}
	s.stop, s.over = noStop, nil
	return nil
}
