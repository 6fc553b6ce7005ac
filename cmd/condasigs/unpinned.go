package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/policy"
)

// unpinned returns the finding, at level note, of a package that verified
// with a policy that pins signers but has no pin in the pin file given to
// verify-env (reason code pin-new), or false. verify-env records no pin,
// so such a package passes whatever trusted identity signed it: the pin
// file is behind the lock file, or the lock file moved the package to
// another channel (a label, a mirror) whose pins are others. In a CI
// summary it must show, or a pull request that moves a package off its
// pin passes without a trace.
func unpinned(r *condasigs.Report) (finding, bool) {
	if r == nil || r.Outcome == policy.Fail {
		return finding{}, false // a failure has its own findings
	}
	for _, reason := range r.Reasons {
		if reason.Code == policy.CodePinNew {
			f := newFinding(r, reason, "note")
			msg := "not pinned: the pin file has no pin of this package on this channel, so any trusted identity passes (" + reason.Message + "); pin it with condasigs pin, and commit the pin file"
			f.message, f.reason = packageWhere(r)+": "+msg, msg
			return f, true
		}
	}
	return finding{}, false
}

// countUnpinned counts the packages of env that unpinned reports.
func countUnpinned(env envReport) int {
	n := 0
	for _, p := range env.Packages {
		if _, ok := unpinned(p.Report); ok {
			n++
		}
	}
	return n
}

// sarifMessage is the text of a result's message: f.message with its
// controls, line breaks and bidirectional characters escaped
// (textsafe.Escape). Viewers show a message's first line, or first
// sentence, where space is short (GitHub's alert lists): a line break in
// a lock file's package name or a bundle's message must not end the
// message there, with a title of its author's choosing. The result's
// properties keep the exact values, for programs.
func sarifMessage(s string) string { return textsafe.Escape(s) }

// warnUnpinned tells, whatever the format, how many packages the pin file
// given to verify-env has no pin for, naming the first few.
func warnUnpinned(w io.Writer, pins string, env envReport) {
	if !env.pinned {
		return
	}
	var names []string
	for _, p := range env.Packages {
		if _, ok := unpinned(p.Report); ok {
			names = append(names, textsafe.Escape(p.Filename))
		}
	}
	if len(names) == 0 {
		return
	}
	n := len(names)
	if n > 3 {
		names = append(names[:3], "...")
	}
	fmt.Fprintf(w, "condasigs: warning: %d packages have no pin in %s (%s), so they pass whichever trusted identity signed them: pin them with condasigs pin and commit the pin file\n",
		n, textsafe.Escape(pins), strings.Join(names, ", "))
}
