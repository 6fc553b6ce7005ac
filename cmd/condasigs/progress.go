package main

import (
	"io"
	"os"
	"time"

	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/rivo/uniseg"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressBar draws verify-env's progress, "done/total [=====>    ] name",
// on one terminal line, with github.com/schollz/progressbar/v3: it clears
// lines without ANSI codes (legacy Windows consoles), measures text in
// terminal columns (wide characters) and throttles redraws. The bar is
// drawn only on a terminal, so that logs and pipes stay clean.
type progressBar struct {
	w     io.Writer
	width int           // terminal columns
	every time.Duration // at most one redraw per this much time, the last always drawn
	bar   *progressbar.ProgressBar
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
	return &progressBar{w: w, width: width, every: 50 * time.Millisecond}
}

// barColumns is what the bar takes besides the name: the count, the bar
// and the spaces between them.
const barColumns = 50

// update redraws the bar: done of total, and the name of the package just
// done (drawn first with the count before it, as the package in hand), which
// comes from a lock file or a channel: it is escaped (textsafe.Escape)
// and cut to the terminal's width, so that it can neither drive the
// terminal nor wrap the line. Callers serialise calls.
func (p *progressBar) update(done, total int, name string) {
	if p == nil || total <= 0 {
		return
	}
	desc := fitColumns(textsafe.Escape(name), p.width-barColumns)
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionThrottle(p.every),
			progressbar.OptionSetRenderBlankState(false))
	}
	p.bar.Describe(desc)
	_ = p.bar.Set(done) // writes to a terminal; a failed write only loses the bar
}

// clear erases the bar's line.
func (p *progressBar) clear() {
	if p != nil && p.bar != nil {
		_ = p.bar.Clear()
	}
}

// fitColumns cuts s to at most n terminal columns, at a grapheme boundary.
func fitColumns(s string, n int) string {
	if uniseg.StringWidth(s) <= n {
		return s
	}
	width, end := 0, 0
	state := -1
	rest := s
	for len(rest) > 0 {
		var cluster string
		var w int
		cluster, rest, w, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if width+w > n {
			break
		}
		width += w
		end += len(cluster)
	}
	return s[:end]
}
