package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/condasigs/condasigs/internal/textsafe"
	"golang.org/x/term"
)

// progressBar draws "[=====>    ] done/total name" on one terminal line.
// It draws nothing unless w is a terminal, so that logs and pipes stay
// clean.
type progressBar struct {
	w     io.Writer
	width int
}

// newProgressBar returns a bar on w, or nil when w is not a terminal.
func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width < 40 {
		width = 80
	}
	return &progressBar{w: w, width: width}
}

// update redraws the bar with the name of the package just done, which
// comes from a lock file or a channel and is escaped (textsafe.Escape).
// Callers serialise calls.
func (p *progressBar) update(done, total int, name string) {
	if p == nil || total <= 0 {
		return
	}
	const barWidth = 30
	filled := barWidth * done / total
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	line := fmt.Sprintf("[%s] %d/%d %s", bar, done, total, textsafe.Escape(name))
	if r := []rune(line); len(r) > p.width-1 {
		line = string(r[:p.width-1])
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
}

// clear erases the bar's line.
func (p *progressBar) clear() {
	if p != nil {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
