package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// cells splits a table row at its unescaped pipes (a backslash escapes the
// character after it), and returns the cells between the outer pipes.
func cells(row string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch c := row[i]; {
		case c == '\\' && i+1 < len(row):
			cur.WriteByte(c)
			cur.WriteByte(row[i+1])
			i++
		case c == '|':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	out = append(out, cur.String())
	if len(out) < 2 {
		return nil
	}
	return out[1 : len(out)-1]
}

// rendered is the text a CommonMark renderer shows for an escaped cell:
// each backslash-escaped punctuation character as itself.
func rendered(cell string) string {
	var b strings.Builder
	for i := 0; i < len(cell); i++ {
		if cell[i] == '\\' && i+1 < len(cell) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", cell[i+1]) >= 0 {
			i++
		}
		b.WriteByte(cell[i])
	}
	return b.String()
}

// Names, channels, codes and messages that try to break the table or
// inject markdown or HTML render as the text they are, each in its cell,
// on its row.
func TestMarkdownHostileText(t *testing.T) {
	hostile := []string{
		"a|b | c",
		"line\nbreak\r\n| FAKE | ROW |",
		"`code` ``x`` ```",
		"<script>alert(1)</script> <img src=x onerror=y> &lt;b&gt; &amp;",
		"[click](https://evil.example/) ![img](https://evil.example/x.png) [ref]: https://evil.example [^1]",
		"https://evil.example/login www.evil.example ftp://x.example mailto:a@b.example user@evil.example",
		"*bold* _it_ ~~strike~~ **b** # heading $x^2$ :smile: @someone #123",
		"\u202ereversed\u200b \x1b[31mred ::warning::x ##[error]y",
		"trailing backslash \\",
	}
	var pkgs []envPackage
	for i, h := range hostile {
		pkgs = append(pkgs, envPackage{Line: i + 3, Report: &condasigs.Report{
			Filename: h + ".conda", Channel: "https://c.example/" + h, Outcome: policy.Fail, Status: policy.StatusVerificationFailure,
			Bundles: []attest.Evidence{}, Reasons: []policy.Reason{{Code: policy.Code(h), Severity: policy.SeverityError, Message: h}},
		}})
	}
	env := envReport{Input: &envInput{File: "env|`<b>`.txt"}, Packages: pkgs,
		Summary: envSummary{Total: len(pkgs), Failed: len(pkgs)}}
	var buf bytes.Buffer
	require.NoError(t, writeMarkdown(&buf, env))
	out := buf.String()

	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	assert.Equal(t, `### condasigs verify-env: env\|\`+"`"+`\<b\>\`+"`"+`.txt`, lines[0])
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| |") && !strings.HasPrefix(l, "| ---") {
			rows = append(rows, l)
		}
	}
	require.Len(t, rows, len(hostile), "one row a reason, none injected:\n%s", out)
	for i, h := range hostile {
		c := cells(rows[i])
		require.Len(t, c, 6, "row %d keeps its six cells: %s", i, rows[i])
		want := textsafe.Escape(h)
		assert.Equal(t, want+".conda", rendered(strings.TrimSpace(c[1])), "package, row %d", i)
		assert.Equal(t, "https://c.example/"+want, rendered(strings.TrimSpace(c[2])), "channel, row %d", i)
		assert.Equal(t, want, rendered(strings.TrimSpace(c[3])), "code, row %d", i)
		assert.Equal(t, want, rendered(strings.TrimSpace(c[4])), "message, row %d", i)
		assert.Equal(t, fmt.Sprint(i+3), strings.TrimSpace(c[5]), "line, row %d", i)
		for _, cell := range c[1:5] {
			for j := 0; j < len(cell); j++ {
				if cell[j] == '\\' {
					j++ // an escape and what it escapes
					continue
				}
				assert.NotContains(t, "`*_[]<>|&:@$~!#", string(cell[j]), "unescaped %q in row %d: %s", cell[j], i, cell)
			}
			assert.NotRegexp(t, `(?i)www\.`, cell, "the dot of www. is escaped")
		}
	}
	for _, raw := range []string{"\u202e", "\u200b", "\x1b", "\r"} {
		assert.NotContains(t, out, raw)
	}
}

// verify-env --format markdown: the counts, and one row per failure and
// warning, failures first, at the lines of each lock-file format.
func TestVerifyEnvMarkdown(t *testing.T) {
	e := newLockEnv(t)
	for _, format := range []lockfile.Format{lockfile.FormatExplicit, lockfile.FormatPixiLock, lockfile.FormatCondaLock} {
		t.Run(string(format), func(t *testing.T) {
			path, at := e.write(t, format)
			code, out, errOut := runCLI(t, e.args(format, path, "--format", "markdown")...)
			assert.Equal(t, exitFail, code, errOut)
			assert.NotContains(t, out+errOut, "SECRET")
			assert.Contains(t, out, "**1 failed**, **1 warned**, 1 passed of 3 packages.\n")
			var rows [][]string
			for _, l := range strings.Split(out, "\n") {
				if c := cells(l); len(c) == 6 && !strings.Contains(l, "---") && strings.TrimSpace(c[1]) != "Package" {
					rows = append(rows, c)
				}
			}
			require.Len(t, rows, 2, out)
			assert.Equal(t, []string{"❌ error", e.mismatch, "lock-mismatch", fmt.Sprint(at[e.mismatch])},
				[]string{strings.TrimSpace(rows[0][0]), rendered(strings.TrimSpace(rows[0][1])), rendered(strings.TrimSpace(rows[0][3])), strings.TrimSpace(rows[0][5])})
			assert.Equal(t, []string{"⚠️ warning", e.unsigned, "unsigned", fmt.Sprint(at[e.unsigned])},
				[]string{strings.TrimSpace(rows[1][0]), rendered(strings.TrimSpace(rows[1][1])), rendered(strings.TrimSpace(rows[1][3])), strings.TrimSpace(rows[1][5])})
			assert.Equal(t, e.vc.url, rendered(strings.TrimSpace(rows[0][2])), "the channel, without its credentials")
		})
	}
}

// When every package passes, the summary says so and has no table.
func TestVerifyEnvMarkdownAllPass(t *testing.T) {
	env := envReport{Input: &envInput{File: "pixi.lock"}, Summary: envSummary{Total: 4, Passed: 3, Skipped: 2, Errors: 0}, Packages: []envPackage{
		{Line: 3, Report: &condasigs.Report{Filename: "a.conda", Outcome: policy.Pass, Reasons: []policy.Reason{{Code: policy.CodeNotChecked, Severity: policy.SeverityInfo, Message: "m"}}}},
	}}
	var buf bytes.Buffer
	require.NoError(t, writeMarkdown(&buf, env))
	assert.Equal(t, "### condasigs verify-env: pixi.lock\n\n0 failed, 0 warned, 3 passed of 4 packages; 2 entries skipped (not channel packages, or another platform).\n", buf.String())
}
