package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/condasigs/condasigs/internal/textsafe"
)

// The pin file is committed and reviewed in diffs, so it must mean what it
// shows. encoding/json alone does not see to that: it keeps the last of
// two equal keys (a later line, or a second channel block, silently
// replaces a pin), matches field names without regard to case ("ISSUER",
// or "iſsuer" with a long s), and decodes "nump\u0079" to numpy. Before
// the file is decoded, checkPinSyntax refuses all of these.

// pinFields are the exact keys of the file's top object and of a pin.
var (
	pinFileFields   = []string{"version", "pins"}
	pinSignerFields = []string{"issuer", "repository_id", "repository", "san"}
)

// checkPinSyntax refuses a pin file that could mean something else than
// it shows: a key twice in one object, a field name not spelt exactly as
// this program writes it, a \u escape of a character this program never
// escapes (which hides the name it spells), an invisible or control
// character written as itself in a channel or package name, or anything
// after the JSON object. Other syntax errors are left to the decoder.
func checkPinSyntax(data []byte) error {
	if err := checkPinEscapes(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj     bool
		keyNext bool
		seen    map[string]bool
	}
	var stack []*frame
	values := 0
	for {
		tok, err := dec.Token()
		end := dec.InputOffset() // the token ends on its line
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the decoder reports it
		}
		if len(stack) == 0 {
			if values++; values > 1 {
				return fmt.Errorf("there is more after the JSON object, at line %d", lineAt(data, end))
			}
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.obj && top.keyNext {
			line := lineAt(data, end)
			if top.seen[key] {
				return fmt.Errorf("the key %s appears twice in one object (the second at line %d): a JSON reader keeps only the last, so the file may pin other signers than it seems to; keep the right one and delete the other", textsafe.Quote(key), line)
			}
			top.seen[key] = true
			top.keyNext = false
			switch len(stack) {
			case 1, 4: // the file's fields, a pin's fields
				fields := pinFileFields
				if len(stack) == 4 {
					fields = pinSignerFields
				}
				if !slices.Contains(fields, key) {
					return fmt.Errorf("unknown field %s at line %d: the fields are %s, spelt exactly so", textsafe.Quote(key), line, strings.Join(fields, ", "))
				}
			}
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keyNext: true, seen: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			} else {
				top = nil
			}
		}
		if top != nil && top.obj {
			top.keyNext = true
		}
	}
}

// checkPinEscapes refuses a \u escape, in a string of the JSON document
// data, of a character that this program (and its earlier versions, which
// escaped <, > and &) writes as itself: "nump\u0079" is numpy to the
// reader and something else to a reviewer. It refuses too a key (a
// channel or a package name) holding an invisible or control character
// as itself, which this program always escapes: "num" U+200B "py" looks
// like numpy, the pin of which it removes in a diff that shows no change.
func checkPinEscapes(data []byte) error {
	in := false
	var raw rune // the first character of the string that should be escaped
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !in {
			in, raw = c == '"', 0
			continue
		}
		switch {
		case c == '"':
			in = false
			rest := bytes.TrimLeft(data[i+1:], " \t\r\n")
			if raw != 0 && len(rest) > 0 && rest[0] == ':' {
				return fmt.Errorf("the key at line %d holds the invisible or control character %U as itself, which this program never writes: it makes the name look like another; remove it", lineAt(data, int64(i)), raw)
			}
		case c == '\\' && i+1 < len(data) && data[i+1] == 'u':
			r, n := unquoteU(data[i:])
			if n == 0 {
				return nil // malformed: the decoder reports it
			}
			if !pinEscapeOK(r) {
				return fmt.Errorf("line %d writes %q as the escape %s, which this program never does: it hides the name it spells; write the character as itself", lineAt(data, int64(i)), r, data[i:i+n])
			}
			i += n - 1
		case c == '\\':
			i++ // a one-character escape, \" included
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(data[i:])
			if raw == 0 && (textsafe.Unsafe(r) || (r == utf8.RuneError && n == 1)) {
				raw = r
			}
			i += n - 1
		}
	}
	return nil
}

// unquoteU decodes the \uXXXX escape (or surrogate pair) at the start of
// b, and returns the code point and the bytes it spans; 0 bytes if it is
// malformed.
func unquoteU(b []byte) (rune, int) {
	hex4 := func(b []byte) (rune, bool) {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[2:6]), 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(b[6:]); ok {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec, 12
			}
		}
	}
	return r, 6
}

// pinEscapeOK reports whether this program, or an earlier version, may
// write r as a \u escape: a character textsafe.EscapeJSON escapes (the
// controls encoding/json escapes among them), the HTML characters
// earlier versions escaped, the # of a CI command, and U+FFFD, which
// encoding/json writes for bytes that are not UTF-8.
func pinEscapeOK(r rune) bool {
	return textsafe.Unsafe(r) || strings.ContainsRune("<>&#", r) || r == utf8.RuneError
}

// lineAt returns the line number of byte offset off of data.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}
