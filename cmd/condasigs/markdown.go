package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/policy"
)

// writeMarkdown writes verify-env's result as a GitHub-flavoured markdown
// summary, for a CI step summary ($GITHUB_STEP_SUMMARY): a heading, the
// counts, and a table of the failures (first) and warnings, one row a
// reason, with the package's lock-file line. Passing packages are counted,
// not listed, except those that a pin file given to verify-env has no pin
// for (unpinned): they are counted and listed last.
//
// Every cell but the line number holds text that channels, certificates
// or the lock file control: each is escaped (markdownText), so that it
// renders as the text it is, on its row and in its cell.
func writeMarkdown(w io.Writer, env envReport) error {
	file := ""
	if env.Input != nil {
		file = env.Input.File
	}
	s := env.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "### condasigs verify-env: %s\n\n", markdownText(file))
	fmt.Fprintf(&b, "%s, %s, %s of %d packages", countWord(s.Failed, "failed"), countWord(s.Warned, "warned"), countWord(s.Passed, "passed"), s.Total)
	if s.Errors > 0 {
		fmt.Fprintf(&b, "; %d not verified (code `%s`): see their errors", s.Errors, codeNotVerified)
	}
	if n := countUnpinned(env); n > 0 && env.pinned {
		fmt.Fprintf(&b, "; **%d not pinned** (the pin file has no pin for them, so any trusted identity passes)", n)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, "; %d entries skipped (not channel packages, or another platform)", s.Skipped)
	}
	b.WriteString(".\n")
	header := false
	omitted := 0
	for _, want := range []policy.Outcome{policy.Fail, policy.Warn, ""} {
		for _, p := range env.Packages {
			var fs []finding
			switch {
			case want != "" && p.Outcome == want:
				fs = findings(p.Report)
			case want == "" && env.pinned:
				if f, ok := unpinned(p.Report); ok {
					fs = []finding{f}
				}
			}
			for _, f := range fs {
				if !header {
					b.WriteString("\n| | Package | Channel | Code | Message | Line |\n| --- | --- | --- | --- | --- | ---: |\n")
					header = true
				}
				mark := "⚠️ warning"
				switch f.level {
				case "error":
					mark = "❌ error"
				case "note":
					mark = "📌 not pinned"
				}
				line := ""
				if p.Line > 0 {
					line = fmt.Sprint(p.Line)
				}
				row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", mark, markdownCell(p.Filename), markdownCell(p.Channel),
					markdownCell(string(f.code)), markdownCell(f.reason), line)
				if b.Len()+len(row) > maxMarkdownSize {
					omitted++
					continue
				}
				b.WriteString(row)
			}
		}
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "\n%d more findings are not listed, to keep this summary under GitHub's size limit for a step summary (1 MiB, over which it shows nothing): the SARIF or JSON report lists them all.\n", omitted)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxMarkdownSize bounds the summary's table: GitHub drops a step
// summary larger than 1 MiB whole, and with it every failure it lists, so
// a channel's long messages, or a large environment's many failures, must
// not push it over. The rows that do not fit are counted instead.
const maxMarkdownSize = 768 << 10

// maxMarkdownCell bounds the text of one cell, before it is escaped: the
// SARIF and JSON reports give the whole text.
const maxMarkdownCell = 2 << 10

// markdownCell is markdownText of s cut to maxMarkdownCell bytes (never
// inside a UTF-8 sequence), a cut marked with "...".
func markdownCell(s string) string {
	if len(s) > maxMarkdownCell {
		cut := maxMarkdownCell
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return markdownText(s)
}

// countWord is "N word", in bold when N is not zero and the word is not
// "passed".
func countWord(n int, word string) string {
	if n == 0 || word == "passed" {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("**%d %s**", n, word)
}

// markdownSpecial are the ASCII punctuation characters markdownText
// escapes with a backslash: those that start emphasis, code, links,
// images, footnotes, HTML, entities, math, emoji shortcodes, autolinks
// (the colon of a scheme, the @ of an address) or end a table cell.
// CommonMark renders a backslash-escaped punctuation character as itself,
// so the text reads as it is. Hyphens, dots, slashes, commas and quotes
// are left alone: mid-line, in a cell, they start nothing.
const markdownSpecial = "\\`*_{}[]()<>#+!|~:@$&^"

// markdownText returns s as markdown that renders as the text s, on one
// line of a table cell, and makes no link, image, HTML or formatting: its
// control, format and bidirectional characters escaped first
// (textsafe.Escape, so a newline is the two characters \n), then every
// markdownSpecial character backslash-escaped, and the dot of "www."
// escaped, which would start an autolink.
func markdownText(s string) string {
	s = textsafe.Escape(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(markdownSpecial, c) >= 0:
			b.WriteByte('\\')
		case c == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www"):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
