package condasigs

import (
	"log/slog"

	"github.com/condasigs/condasigs/internal/textsafe"
)

// EscapeText makes text that comes from a channel, a certificate or a lock
// file (a report's messages, file names, identities, error messages) safe
// to print to a terminal or a CI log: control characters, escape
// sequences, bidirectional overrides and line breaks are written as
// escapes, and lines that a CI runner would read as a command (GitHub's
// "::", Azure's "##vso[") are defused. The condasigs CLI escapes all its
// output this way; do the same for what you print.
func EscapeText(s string) string { return textsafe.Escape(s) }

// EscapeLogAttr is a slog.HandlerOptions.ReplaceAttr that escapes every
// string and error attribute with EscapeText, for the logger given to Options.Logger
// and fetch.Options.Logger when its output reaches a terminal or a CI log.
func EscapeLogAttr(groups []string, a slog.Attr) slog.Attr { return textsafe.ReplaceAttr(groups, a) }
