package condasigs_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/condasigs/condasigs"
)

func TestEscapeText(t *testing.T) {
	for _, in := range []string{"a\nb", "::error::x", "\x1b]0;title\x07", "x\u202ey", "##vso[task.setvariable]"} {
		out := condasigs.EscapeText(in)
		assert.NotEqual(t, in, out)
		assert.False(t, strings.ContainsAny(out, "\n\x1b\x07\u202e"), out)
	}
	assert.Equal(t, "plain-1.0-0.conda", condasigs.EscapeText("plain-1.0-0.conda"))

	var b bytes.Buffer
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: condasigs.EscapeLogAttr}))
	log.Info("m", "file", "a\n::error::b", "err", errors.New("c\x1b[2J"))
	assert.Equal(t, 1, strings.Count(b.String(), "\n"), b.String())
	assert.NotContains(t, b.String(), "\x1b")
}
