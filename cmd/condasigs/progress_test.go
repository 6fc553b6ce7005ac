package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgressBarOnlyOnTerminals(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer f.Close()
	assert.Nil(t, newProgressBar(f), "a file is not a terminal")
	assert.Nil(t, newProgressBar(&bytes.Buffer{}))
	var nilBar *progressBar
	nilBar.update(1, 2, "x") // no-ops, no panic
	nilBar.clear()
}

// lastLine returns the last line the bar drew: what follows the last \r.
func lastLine(s string) string {
	return s[strings.LastIndex(s, "\r")+1:]
}

func TestProgressBarDraws(t *testing.T) {
	var buf bytes.Buffer
	bar := &progressBar{w: &buf, width: 80, every: time.Hour}
	bar.update(1, 4, "a-1.0-0.conda") // the first update is drawn
	bar.update(2, 4, "b-1.0-0.conda") // then at most one an hour, here
	assert.NotContains(t, buf.String(), "b-1.0-0.conda")
	assert.Contains(t, buf.String(), "a-1.0-0.conda")
	bar.update(4, 4, "b-1.0-0.conda") // the last update is always drawn
	line := lastLine(buf.String())
	assert.Contains(t, line, "4/4")
	assert.Contains(t, line, "b-1.0-0.conda")
	assert.Contains(t, line, strings.Repeat("█", 30), "full")

	buf.Reset()
	bar.clear()
	assert.Empty(t, strings.Trim(buf.String(), " \r"), "clearing writes spaces over the line: %q", buf.String())
}

// A long or wide name is cut to the terminal's width, so the line never
// wraps (a wrapped line is not redrawn in place).
func TestProgressBarFitsTheTerminal(t *testing.T) {
	for _, name := range []string{strings.Repeat("long-name-", 20), strings.Repeat("名前", 40) + ".conda"} {
		var buf bytes.Buffer
		bar := &progressBar{w: &buf, width: 60}
		bar.update(1, 1, name)
		line := strings.TrimRight(lastLine(buf.String()), " ")
		assert.LessOrEqual(t, uniseg.StringWidth(line), 60, "%q", line)
		assert.Contains(t, line, name[:6])
	}
	assert.Equal(t, "ab", fitColumns("abc", 2))
	assert.Equal(t, "名", fitColumns("名前", 3), "a wide character is not split")
	assert.Equal(t, "e\u0301", fitColumns("e\u0301x", 1), "nor a grapheme cluster")
	assert.Equal(t, "", fitColumns("x", -5))
}

// Names from channels and lock files cannot drive the terminal, break the
// bar's line or reorder it: they are escaped, visibly.
func TestProgressBarEscapesNames(t *testing.T) {
	var buf bytes.Buffer
	bar := &progressBar{w: &buf, width: 200}
	bar.update(1, 1, hostileName)
	for _, line := range strings.Split(buf.String(), "\r") {
		assertSafeText(t, line)
	}
	assert.Contains(t, lastLine(buf.String()), "evil"+hostileEscaped+"-1.0-0.conda")
}
