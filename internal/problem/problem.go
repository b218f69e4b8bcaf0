// Package problem defines the error type devcluster shows to people: what
// failed, why, and what to do about it, plus a Kind that the command layer
// maps to a documented exit code.
package problem

import (
	"errors"
	"fmt"
)

// Kind classifies a problem for the exit code.
type Kind int

const (
	// Failed is any failure without a more specific kind (exit 1).
	Failed Kind = iota
	// Usage is a bad command line (exit 2).
	Usage
	// Config is an invalid configuration file or flag value (exit 2).
	Config
	// NotRunning means the cluster is absent, stopped or paused (exit 3).
	NotRunning
	// Drift means the existing cluster differs from the requested one and
	// devcluster refused to change it (exit 4).
	Drift
	// Missing means a prerequisite such as the minikube binary is missing (exit 5).
	Missing
	// Timeout means a bounded wait ran out (exit 6).
	Timeout
)

// Error is a problem reported to a person.
type Error struct {
	Kind Kind
	// What failed, phrased as an activity: "starting cluster \"dev\"".
	What string
	// Err is the cause.
	Err error
	// Fix says what to do; empty when there is nothing better than the cause.
	Fix string
	// left marks a problem that says what an interrupted command left
	// behind (see Left).
	left bool
}

// Left marks e as saying what a command cut short by an interrupt left
// behind (the writes made, undone or not), and returns it: the command line
// shows such a problem whole after an interrupt, where it otherwise says
// only "interrupted" (the advice of a step cut short does not apply).
func Left(e *Error) *Error {
	e.left = true
	return e
}

// LeftOf returns the outermost problem in err's chain marked with Left, or
// nil.
func LeftOf(err error) *Error {
	for err != nil {
		var p *Error
		if !errors.As(err, &p) {
			return nil
		}
		if p.left {
			return p
		}
		err = p.Err
	}
	return nil
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.What
	}
	if e.What == "" {
		return e.Err.Error()
	}
	return e.What + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns a problem of the given kind.
func New(kind Kind, what string, cause error, fix string) *Error {
	return &Error{Kind: kind, What: what, Err: cause, Fix: fix}
}

// KindOf returns the kind of the outermost *Error in err's chain, or Failed.
func KindOf(err error) Kind {
	var p *Error
	if errors.As(err, &p) {
		return p.Kind
	}
	return Failed
}

// FixOf returns the first non-empty Fix in err's chain.
func FixOf(err error) string {
	for err != nil {
		var p *Error
		if !errors.As(err, &p) {
			return ""
		}
		if p.Fix != "" {
			return p.Fix
		}
		err = p.Err
	}
	return ""
}

// List is several problems found at once (for example every invalid field
// of a config file). Its Error lists them one per line.
type List struct {
	Subject  string
	Problems []string
}

func (l *List) Error() string {
	s := l.Subject
	if len(l.Problems) == 1 {
		return s + ": " + l.Problems[0]
	}
	s += fmt.Sprintf(": %d problems:", len(l.Problems))
	for _, p := range l.Problems {
		s += "\n  - " + p
	}
	return s
}
