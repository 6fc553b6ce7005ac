// Package textsafe makes untrusted text safe to print on a terminal or in a
// CI log.
//
// File names, URLs, channel names, certificate identities and messages that
// embed them come from channels, certificates and lock files, that is from
// whoever controls them. Printed as they are, a newline in them starts a
// line of their choosing (a fake "PASS" line, or a GitHub Actions workflow
// command such as ::warning::, which the runner reads from any line that
// starts with "::"); an escape sequence clears the screen, moves the
// cursor or sets the window title; a bidirectional override reorders what
// the reader sees. [Escape] writes every such character as a visible
// escape, so that the text stays on its line, drives nothing, and shows
// what was there.
package textsafe

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s fit to print on one line of a terminal or a CI log:
//
//   - bytes that are not UTF-8 are written \xNN;
//   - tab, newline and carriage return are written \t, \n and \r, the other
//     C0 controls (escape included) and DEL \xNN, e.g. \x1b;
//   - C1 controls (U+0080 to U+009F, next line U+0085 included),
//     format characters (the bidirectional marks, embeddings, overrides and
//     isolates U+061C, U+200E, U+200F, U+202A to U+202E and U+2066 to
//     U+2069, zero-width characters, U+FEFF, tags), the line and paragraph
//     separators U+2028 and U+2029, spaces other than U+0020, characters
//     that print as nothing (Hangul fillers, U+034F, U+17B4, U+17B5),
//     private-use, unassigned and noncharacter code points are written
//     \uNNNN, or \UNNNNNNNN above U+FFFF;
//   - a string that starts with "::", after spaces, has its first colon
//     written \x3a, so that it never starts a GitHub Actions workflow
//     command, wherever it is printed;
//   - "##[" and "##vso[" (in any case), which Azure Pipelines reads as
//     commands anywhere in a line, have their first "#" written \x23.
//
// Everything else, the backslash included, is kept as it is: the result is
// for people to read, not to be parsed back (a lossless form is the JSON
// report). Escape the untrusted parts of a line, not the line: the line
// breaks of the output are the program's own.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	lead := true // only spaces so far
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeByte(&b, s[i])
		case lead && r == ':' && strings.HasPrefix(s[i:], "::"):
			b.WriteString(`\x3a`)
		case r == '#' && azureCommand(s[i:]):
			b.WriteString(`\x23`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			writeByte(&b, byte(r))
		case Unsafe(r):
			writeRune(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		lead = lead && r == ' '
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII that needs no escape.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return !strings.HasPrefix(strings.TrimLeft(s, " "), "::") && !strings.Contains(s, "##")
}

// azureCommand reports whether s starts with an Azure Pipelines logging or
// formatting command: "##vso[" or "##[", in any case.
func azureCommand(s string) bool {
	rest, ok := strings.CutPrefix(s, "##")
	if !ok {
		return false
	}
	return strings.HasPrefix(rest, "[") || (len(rest) >= 4 && strings.EqualFold(rest[:4], "vso["))
}

// Unsafe reports whether r is a code point [Escape] writes as an escape:
// a control, format, separator or invisible character, a space other than
// U+0020, or a private-use, unassigned or noncharacter code point.
// [utf8.RuneError] itself, U+FFFD, is safe: it prints as a visible mark.
func Unsafe(r rune) bool {
	switch {
	case r == ' ':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x7f:
		return false
	case invisible(r):
		return true
	}
	// Graphic is letters, marks, numbers, punctuation, symbols and spaces:
	// not controls (Cc), format characters (Cf), line and paragraph
	// separators (Zl, Zp), private use (Co), surrogates or unassigned
	// code points. Spaces other than U+0020 are unsafe too: they hide what
	// follows them, and CI runners trim them at the start of a line
	// before looking for a workflow command.
	return !unicode.IsGraphic(r) || unicode.Is(unicode.Zs, r) || noncharacter(r)
}

// invisible reports whether r is a graphic character that prints as
// nothing, as used to hide text or make two names look the same.
func invisible(r rune) bool {
	switch r {
	case 0x034f, // combining grapheme joiner
		0x115f, 0x1160, 0x3164, 0xffa0, // Hangul fillers
		0x17b4, 0x17b5: // Khmer inherent vowels
		return true
	}
	return false
}

// noncharacter reports whether r is one of Unicode's 66 noncharacters.
func noncharacter(r rune) bool {
	return (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe
}

const hexDigits = "0123456789abcdef"

func writeByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

func writeRune(b *strings.Builder, r rune) {
	if r > 0xffff {
		b.WriteString(`\U`)
		writeHex(b, uint32(r), 8)
		return
	}
	b.WriteString(`\u`)
	writeHex(b, uint32(r), 4)
}

func writeHex(b *strings.Builder, v uint32, digits int) {
	s := strconv.FormatUint(uint64(v), 16)
	for range digits - len(s) {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

// EscapeJSON returns the JSON document doc with every code point that
// [Unsafe] reports written as a JSON escape (\uNNNN, as a surrogate pair
// above U+FFFF), and the first "#" of Azure's "##[" and "##vso[" commands
// as \u0023, so that the document, printed to a terminal or a CI log,
// drives and reorders nothing, while it decodes to the same values.
// encoding/json escapes the C0 controls, U+2028 and U+2029 already, and
// outside strings a JSON document holds only ASCII, so every code point
// replaced is inside a string. Bytes that are not UTF-8, which
// encoding/json never writes, are replaced with \ufffd.
func EscapeJSON(doc []byte) []byte {
	plain := !bytes.Contains(doc, []byte("##"))
	for _, c := range doc {
		if c >= 0x80 || c == 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return doc
	}
	out := make([]byte, 0, len(doc)+32)
	for i := 0; i < len(doc); {
		r, size := utf8.DecodeRune(doc[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r >= 0x7f && Unsafe(r):
			out = appendJSONEscape(out, r)
		case r == '#' && azureCommand(string(doc[i:min(len(doc), i+6)])):
			// Outside strings a JSON document has no "#": this one is in
			// a string, where \u0023 decodes to the same value.
			out = appendU(out, '#')
		default:
			out = append(out, doc[i:i+size]...)
		}
		i += size
	}
	return out
}

func appendJSONEscape(out []byte, r rune) []byte {
	if r > 0xffff {
		r -= 0x10000
		out = appendU(out, 0xd800+(r>>10))
		return appendU(out, 0xdc00+(r&0x3ff))
	}
	return appendU(out, r)
}

func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// ReplaceAttr is a [slog.HandlerOptions] ReplaceAttr hook that escapes
// every key and value as [Logger] does, so that a log line, like any other
// output, carries no command or control that a channel, a certificate or a
// lock file put in it.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr { return escapeAttr(a) }

// Clip cuts s to a length fit for a message (100 bytes, never inside a
// UTF-8 sequence), marking a cut with "...".
func Clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// Quote returns s clipped and quoted as a Go string, for a message.
func Quote(s string) string { return strconv.Quote(Clip(s)) }

// Logger returns l, or a logger that discards everything when l is nil,
// with every message, string and error escaped by [Escape] before l's
// handler sees it: the log lines of a library carry no command or control
// that a channel, a certificate or a lock file put in them, whatever
// handler the caller gave.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	if _, ok := l.Handler().(escaper); ok {
		return l
	}
	return slog.New(escaper{l.Handler()})
}

// escaper is the slog.Handler of Logger.
type escaper struct{ h slog.Handler }

func (e escaper) Enabled(ctx context.Context, l slog.Level) bool { return e.h.Enabled(ctx, l) }

func (e escaper) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Escape(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a = escapeAttr(a); !a.Equal(slog.Attr{}) {
			out.AddAttrs(a)
		}
		return true
	})
	return e.h.Handle(ctx, out)
}

func (e escaper) WithAttrs(attrs []slog.Attr) slog.Handler {
	return escaper{e.h.WithAttrs(escapeAttrs(attrs))}
}

func (e escaper) WithGroup(name string) slog.Handler { return escaper{e.h.WithGroup(Escape(name))} }

// escapeAttrs escapes attrs, leaving out the empty ones, as handlers do.
func escapeAttrs(attrs []slog.Attr) []slog.Attr {
	esc := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		if a = escapeAttr(a); !a.Equal(slog.Attr{}) {
			esc = append(esc, a)
		}
	}
	return esc
}

// escapeAttr escapes a's key and value, in groups too, once any LogValuer
// is resolved: strings, and any other value (an error, a Stringer, a
// slice) as the text it prints.
func escapeAttr(a slog.Attr) slog.Attr {
	a.Key = Escape(a.Key)
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindGroup:
		a.Value = slog.GroupValue(escapeAttrs(a.Value.Group())...)
	case slog.KindAny:
		if a.Value.Any() == nil {
			break // an empty Attr, or nil: nothing to escape
		}
		// fmt recovers from a panicking Error or String method (a nil
		// pointer, say), as slog's own handlers do.
		a.Value = slog.StringValue(Escape(fmt.Sprint(a.Value.Any())))
	case slog.KindString:
		a.Value = slog.StringValue(Escape(a.Value.String()))
	}
	return a
}
