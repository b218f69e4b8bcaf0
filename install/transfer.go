package install

import (
	"io"
	"os"
	"time"
)

// watchedReader reports every read.
type watchedReader struct {
	r      io.Reader
	onRead func(int)
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.onRead(n)
	}
	return n, err
}

// writeError marks a failed write to the temporary file.
type writeError struct{ error }

func (w *writeError) Unwrap() error { return w.error }

// fileWriter marks its write errors as writeError, to tell a full disk
// from a broken download.
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		return n, &writeError{err}
	}
	return n, nil
}

// reporter throttles progress reports.
type reporter struct {
	i     *Installer
	p     Progress
	start time.Time
	last  time.Time
}

func (r *reporter) add(n int64) {
	r.p.Done += n
	if r.i.OnProgress == nil {
		return
	}
	every := r.i.ProgressEvery
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	if now := time.Now(); now.Sub(r.last) >= every {
		r.last = now
		r.p.Elapsed = now.Sub(r.start)
		r.i.OnProgress(r.p)
	}
}

func (r *reporter) final() {
	if r.i.OnProgress == nil {
		return
	}
	r.p.Elapsed, r.p.Final = time.Since(r.start), true
	r.i.OnProgress(r.p)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
