package condasigs

import "github.com/condasigs/condasigs/internal/textsafe"

// EscapeText makes text that comes from a channel, a certificate or a lock
// file (a report's messages, file names, identities, error messages) safe
// to print to a terminal or a CI log: control characters, escape
// sequences, bidirectional overrides and line breaks are written as
// escapes, and lines that a CI runner would read as a command (GitHub's
// "::", Azure's "##vso[") are defused. The condasigs CLI escapes all its
// output this way; do the same for what you print. What condasigs logs
// (Options.Logger, fetch.Options.Logger, trustroot.TUFOptions.Logger) is
// escaped the same way before your handler sees it.
func EscapeText(s string) string { return textsafe.Escape(s) }
