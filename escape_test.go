package condasigs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/fetch"
	"github.com/condasigs/condasigs/internal/fixtures"
	"github.com/condasigs/condasigs/policy"
	"github.com/condasigs/condasigs/trustroot"
)

func TestEscapeText(t *testing.T) {
	for _, in := range []string{"a\nb", "::error::x", "\x1b]0;title\x07", "x\u202ey", "##vso[task.setvariable]"} {
		out := condasigs.EscapeText(in)
		assert.NotEqual(t, in, out)
		assert.False(t, strings.ContainsAny(out, "\n\x1b\x07\u202e"), out)
	}
	assert.Equal(t, "plain-1.0-0.conda", condasigs.EscapeText("plain-1.0-0.conda"))

}

// rawHandler writes each record's message and attributes as they are,
// one record per line: a handler that escapes nothing.
type rawHandler struct{ b *bytes.Buffer }

func (h rawHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h rawHandler) Handle(_ context.Context, r slog.Record) error {
	h.b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(h.b, " %s=%s", a.Key, a.Value.String())
		return true
	})
	h.b.WriteByte('\n')
	return nil
}
func (h rawHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h rawHandler) WithGroup(string) slog.Handler      { return h }

// What the Verifier logs is escaped before the caller's handler sees it,
// even a handler that escapes nothing: a package's file name, which comes
// from a lock file or a channel, cannot write a line of its own.
func TestVerifierLogIsEscaped(t *testing.T) {
	var b bytes.Buffer
	trust, err := trustroot.FromJSON(fixtures.Read(fixtures.PublicGoodRootFile))
	require.NoError(t, err)
	v, err := condasigs.New(condasigs.Options{Trust: trust, Logger: slog.New(rawHandler{&b}),
		Policy: policy.Policy{Require: policy.ModeWarn, Identities: []policy.Identity{{SAN: "https://github.com/x/*", Issuer: "github"}}}})
	require.NoError(t, err)
	name := "evil\u202e-1.0-0.conda"
	rep, err := v.Verify(t.Context(), condasigs.Package{URL: "https://conda.example.com/c/noarch/" + name, Record: fetch.Record{Filename: name}})
	require.NoError(t, err)
	require.Equal(t, policy.Warn, rep.Outcome, "the unsigned package is decided, and logged")
	require.Contains(t, b.String(), "condasigs: verified", "the decision is logged")
	assert.NotContains(t, b.String(), "\u202e", b.String())
	assert.Contains(t, b.String(), `evil\u202e-1.0-0.conda`, "the file name is logged, escaped")
}
