package textsafe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"plain-1.0-0.conda":   "plain-1.0-0.conda",
		`C:\envs\pixi.lock`:   `C:\envs\pixi.lock`,
		"a\nb\r\nc\td":        `a\nb\r\nc\td`,
		"\x00\x07\x1b[2J\x7f": `\x00\x07\x1b[2J\x7f`,
		"\x1b]0;title\x07":    `\x1b]0;title\x07`,
		"\u0085\u009b2J":      `\u0085\u009b2J`,
		"abc\u202edcba":       `abc\u202edcba`,
		"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069": `\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`,
		"a\u2028b\u2029c":                       `a\u2028b\u2029c`,
		"zero\u200bwidth\u200d\ufeff\u00ad":     `zero\u200bwidth\u200d\ufeff\u00ad`,
		"nb\u00a0sp\u3000\u2003":                `nb\u00a0sp\u3000\u2003`,
		"fill\u3164er\u115f\u034f":              `fill\u3164er\u115f\u034f`,
		"tag\U000e0041\U000f0000":               `tag\U000e0041\U000f0000`,
		"non\ufffechar\U0010ffff":               `non\ufffechar\U0010ffff`,
		"bad\xff\xc3(utf8":                      `bad\xff\xc3(utf8`,
		"caf\u00e9 \u4e2d\u6587 e\u0301 \ufffd": "caf\u00e9 \u4e2d\u6587 e\u0301 \ufffd",
		"::warning::x":                          `\x3a:warning::x`,
		"  ::error::x":                          `  \x3a:error::x`,
		"\u00a0::error::x":                      `\u00a0::error::x`,
		"a ::b":                                 "a ::b",
		":one":                                  ":one",
		"evil\n::warning::all 1 packages passed\nPASS fake": `evil\n::warning::all 1 packages passed\nPASS fake`,
		// Azure Pipelines reads these anywhere in a line.
		"x ##vso[task.complete result=Succeeded;]done": `x \x23#vso[task.complete result=Succeeded;]done`,
		"##VSO[task.setvariable variable=x]1":          `\x23#VSO[task.setvariable variable=x]1`,
		"a ##[error]fake":                              `a \x23#[error]fake`,
		"issue ##42 and #[x]":                          "issue ##42 and #[x]",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever the input, the output is one line of valid UTF-8 with no
// control, format or separator character, and never starts a workflow
// command.
func TestEscapeAnyInput(t *testing.T) {
	inputs := []string{"\xff\xfe", "::", " ::", "\n::", "\u202e::"}
	for r := rune(0); r <= 0x3000; r++ {
		inputs = append(inputs, "a"+string(r)+"b", string(r)+"::")
	}
	for r := rune(0xe0000); r <= 0xe0080; r++ {
		inputs = append(inputs, string(r))
	}
	for _, in := range inputs {
		out := Escape(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: not UTF-8", in, out)
		}
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("Escape(%q) = %q: holds %U", in, out, r)
			}
		}
		if strings.HasPrefix(strings.TrimSpace(out), "::") {
			t.Fatalf("Escape(%q) = %q: a workflow command", in, out)
		}
		if Escape(out) != out && !strings.HasPrefix(in, "::") {
			// Escapes are themselves plain text.
			t.Fatalf("Escape(Escape(%q)) = %q, not %q", in, Escape(out), out)
		}
	}
}

func TestUnsafe(t *testing.T) {
	for _, r := range []rune{0, '\n', 0x1b, 0x7f, 0x85, 0x9b, 0xa0, 0xad, 0x61c, 0x200b, 0x200e, 0x202e, 0x2028, 0x2066, 0x3000, 0xfeff, 0xe000, 0xfffe, 0xe0001} {
		if !Unsafe(r) {
			t.Errorf("%U is safe", r)
		}
	}
	for _, r := range []rune{' ', 'a', '~', '\\', 0xe9, 0x301, 0x4e2d, 0xfffd, 0x1f600} {
		if Unsafe(r) {
			t.Errorf("%U is unsafe", r)
		}
	}
}

func TestEscapeJSON(t *testing.T) {
	value := map[string]string{"filename": "evil\n::warning::x\x1b[2J\x7f\u0085\u202e\u2066\ufeff\U000e0041\u00a0\u00e9\U0001f600"}
	doc, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	out := EscapeJSON(doc)
	for _, r := range string(out) {
		if Unsafe(r) {
			t.Errorf("%U left in %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if back["filename"] != value["filename"] {
		t.Errorf("decodes to %q, not %q", back["filename"], value["filename"])
	}
	if !strings.Contains(string(out), `\u202e`) || !strings.Contains(string(out), `\udb40\udc41`) || !strings.Contains(string(out), "\u00e9\U0001f600") {
		t.Errorf("EscapeJSON: %s", out)
	}
	if plain := []byte(`{"a":"b"}`); &EscapeJSON(plain)[0] != &plain[0] {
		t.Error("an ASCII document is copied")
	}
}

// Azure Pipelines reads "##vso[" and "##[" anywhere in a line, JSON
// output included: their first "#" is escaped, and the document decodes to
// the same values. A "##" that starts no command stays as it is.
func TestEscapeJSONAzureCommands(t *testing.T) {
	value := map[string]string{"filename": "evil ##vso[task.setvariable variable=OK]true ##[error]pwned ##VSO[x] ##42"}
	doc, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	out := string(EscapeJSON(doc))
	for _, cmd := range []string{"##vso[", "##[", "##VSO["} {
		if strings.Contains(out, cmd) {
			t.Errorf("%q left in %s", cmd, out)
		}
	}
	if !strings.Contains(out, "##42") {
		t.Errorf("a plain ## was escaped: %s", out)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(out), &back); err != nil || back["filename"] != value["filename"] {
		t.Errorf("decodes to %q (%v), not %q", back["filename"], err, value["filename"])
	}
}

// Log lines escape string and error values as every other output does.
func TestReplaceAttr(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	log.Info("verified", "package", "evil ##vso[task.complete]x\u202e", "err", errors.New("##[error]fake\x1b[2J"), "n", 3)
	out := b.String()
	for _, bad := range []string{"##vso[", "##[", "\u202e", "\x1b"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q left in %s", bad, out)
		}
	}
	if !strings.Contains(out, "n=3") {
		t.Errorf("other values changed: %s", out)
	}
}

// Logger escapes the message, every attribute (in groups, given with
// With, and LogValuers once resolved) and group names, whatever handler
// it wraps, and wraps once.
func TestLogger(t *testing.T) {
	var b bytes.Buffer
	raw := slog.New(slog.NewJSONHandler(&b, nil))
	log := Logger(raw)
	assert.Same(t, log, Logger(log), "wrapped once")
	log.With("with", "w\u202e").WithGroup("g\x1b").Info("m\n::error::x",
		"s", "a\u2066b", "err", errors.New("c\x07"), "list", []string{"d\u200be"},
		slog.Group("grp", "inner", "f\u202eg"), "lazy", lazy("h\u2067i"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got), b.String())
	out := fmt.Sprint(got)
	for _, bad := range []string{"\u202e", "\x1b", "\n", "\u2066", "\x07", "\u200b", "\u2067"} {
		assert.NotContains(t, out, bad, "%q in %s", bad, out)
	}
	assert.Equal(t, `m\n::error::x`, got["msg"])
	assert.Equal(t, `w\u202e`, got["with"])
	g := got[`g\x1b`].(map[string]any)
	assert.Equal(t, `a\u2066b`, g["s"])
	assert.Equal(t, `c\x07`, g["err"])
	assert.Equal(t, `[d\u200be]`, g["list"])
	assert.Equal(t, `f\u202eg`, g["grp"].(map[string]any)["inner"])
	assert.Equal(t, `h\u2067i`, g["lazy"])

	assert.NotPanics(t, func() { Logger(nil).Error("discarded") })
	var nilErr *nilError
	assert.NotPanics(t, func() { log.Info("typed nil", "err", nilErr) })
}

type lazy string

func (l lazy) LogValue() slog.Value { return slog.StringValue(string(l)) }

type nilError struct{ msg string }

func (e *nilError) Error() string { return e.msg }

// Logger keeps the rules of a slog.Handler (empty attributes left out,
// groups, WithAttrs and WithGroup), checked by testing/slogtest.
func TestLoggerHandlerRules(t *testing.T) {
	var b bytes.Buffer
	h := Logger(slog.New(slog.NewJSONHandler(&b, nil))).Handler()
	results := func() []map[string]any {
		var out []map[string]any
		for _, line := range bytes.Split(b.Bytes(), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal(line, &m))
			out = append(out, m)
		}
		return out
	}
	require.NoError(t, slogtest.TestHandler(h, results))
}
