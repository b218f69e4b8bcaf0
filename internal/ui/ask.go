package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Ask puts a yes/no question to the person at the terminal, with the
// spinner held, and reads the answer from in: y/yes or n/no, an empty
// answer is def. It gives up when ctx ends.
func (p *Printer) Ask(ctx context.Context, in io.Reader, question string, def bool) (bool, error) {
	p.mu.Lock()
	p.asking = true
	hint := "[y/N]"
	if def {
		hint = "[Y/n]"
	}
	prefix := ""
	if p.style.Spinner {
		prefix = clear
	}
	fmt.Fprintf(p.w, "%s%s %s ", prefix, question, hint)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.asking = false
		p.drawLocked()
		p.mu.Unlock()
	}()
	type answer struct {
		s   string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		s, err := bufio.NewReader(in).ReadString('\n')
		got <- answer{s, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(p.w)
		return false, ctx.Err()
	case a := <-got:
		switch strings.ToLower(strings.TrimSpace(a.s)) {
		case "":
			if a.err != nil && a.err != io.EOF {
				return false, a.err
			}
			if a.err == io.EOF {
				fmt.Fprintln(p.w)
				return false, nil
			}
			return def, nil
		case "y", "yes":
			return true, nil
		default:
			return false, nil
		}
	}
}
