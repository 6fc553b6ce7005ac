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
// not listed.
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
	if s.Skipped > 0 {
		fmt.Fprintf(&b, "; %d entries skipped (not channel packages, or another platform)", s.Skipped)
	}
	b.WriteString(".\n")
	header := false
	for _, want := range []policy.Outcome{policy.Fail, policy.Warn} {
		for _, p := range env.Packages {
			if p.Outcome != want {
				continue
			}
			for _, f := range findings(p.Report) {
				if !header {
					b.WriteString("\n| | Package | Channel | Code | Message | Line |\n| --- | --- | --- | --- | --- | ---: |\n")
					header = true
				}
				mark := "⚠️ warning"
				if f.level == "error" {
					mark = "❌ error"
				}
				line := ""
				if p.Line > 0 {
					line = fmt.Sprint(p.Line)
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mark, markdownText(p.Filename), markdownText(p.Channel),
					markdownText(string(f.code)), markdownText(f.reason), line)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
