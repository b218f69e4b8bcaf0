package ui

import (
	"fmt"
	"time"
	"unicode/utf8"
)

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *Printer) spin(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.drawLocked()
			p.mu.Unlock()
		}
	}
}

// drawLocked redraws the spinner line, cut to the terminal width so it
// never wraps.
func (p *Printer) drawLocked() {
	if !p.active || !p.style.Spinner || p.level < Normal || p.asking {
		return
	}
	s := frames[p.frame%len(frames)] + " " + p.title
	if p.detail != "" {
		s += " — " + p.detail
	}
	s += " (" + short(p.now().Sub(p.stepStart)) + ")"
	if w := p.width() - 1; utf8.RuneCountInString(s) > w && w > 10 {
		r := []rune(s)
		s = string(r[:w-1]) + "…"
	}
	fmt.Fprint(p.w, clear+s)
}

// Live reports whether progress is drawn in place (a spinner on a
// terminal) rather than appended as lines.
func (p *Printer) Live() bool { return p.style.Spinner && p.level >= Normal }
