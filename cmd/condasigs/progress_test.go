package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func TestProgressBarDraws(t *testing.T) {
	var buf bytes.Buffer
	bar := &progressBar{w: &buf, width: 60}
	bar.update(0, 4, "a-1.0-0.conda")
	assert.Equal(t, "\r\x1b[K["+">"+strings.Repeat(" ", 29)+"] 0/4 a-1.0-0.conda", buf.String())
	buf.Reset()
	bar.update(2, 4, "b-1.0-0.conda")
	assert.Equal(t, "\r\x1b[K["+strings.Repeat("=", 15)+">"+strings.Repeat(" ", 14)+"] 2/4 b-1.0-0.conda", buf.String())
	buf.Reset()
	bar.update(4, 4, strings.Repeat("long-name-", 10))
	line := strings.TrimPrefix(buf.String(), "\r\x1b[K")
	assert.Len(t, []rune(line), 59, "never wider than the terminal")
	assert.True(t, strings.HasPrefix(line, "["+strings.Repeat("=", 30)+"] 4/4 long-name-"))
	buf.Reset()
	bar.clear()
	assert.Equal(t, "\r\x1b[K", buf.String())
}

// Names from channels and lock files cannot drive the terminal, break the
// bar's line or reorder it: they are escaped, visibly.
func TestProgressBarEscapesNames(t *testing.T) {
	var buf bytes.Buffer
	bar := &progressBar{w: &buf, width: 200}
	bar.update(1, 1, hostileName)
	line, ok := strings.CutPrefix(buf.String(), "\r\x1b[K")
	require.True(t, ok, "%q", buf.String())
	assertSafeText(t, line)
	assert.Contains(t, line, "] 1/1 evil"+hostileEscaped+"-1.0-0.conda")
}
