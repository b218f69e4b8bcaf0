package config

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
)

// MaxFileSize bounds a configuration file (a devcluster.yaml is a few
// hundred bytes; /dev/zero or a mistaken binary must not fill memory).
const MaxFileSize = 1 << 20

// Load reads and strictly decodes a configuration file. A missing file is an
// error; callers that treat the default file as optional use Find.
func Load(path string) (*Source, error) {
	data, err := readFile(context.Background(), path, path)
	if err != nil {
		return nil, err
	}
	return Decode(path, data)
}

// Where says where Find looks for a configuration.
type Where struct {
	// Path is --config: a file (relative to Dir), "-" for Stdin, or ""
	// for DefaultFile in Dir when it is there and no file otherwise.
	Path string
	// Dir is the working directory.
	Dir string
	// Stdin is read for Path "-".
	Stdin io.Reader
}

// Find reads the configuration w names: the file given, standard input,
// or the optional default file. It returns a nil Source when there is no
// file to read (no --config, no devcluster.yaml), and the directory the
// file's relative paths start from (the file's, else Dir). A document that
// decoded with problems is returned with them inside the Source, so that
// Complete reports them with the values' own (see Decode); the error is
// set only when there is nothing to validate. The Source's Path is the
// file as the user knows it: relative to Dir when inside it.
func Find(ctx context.Context, w Where) (*Source, string, error) {
	path := w.Path
	if path == "" {
		def := filepath.Join(w.Dir, DefaultFile)
		if _, err := os.Stat(def); err == nil {
			path = def
		}
	} else if !filepath.IsAbs(path) && path != "-" {
		path = filepath.Join(w.Dir, path)
	}
	switch path {
	case "":
		return nil, w.Dir, nil
	case "-":
		data, err := ReadLimited(ctx, w.Stdin, "standard input")
		if err != nil {
			return nil, "", err
		}
		src, err := Decode("stdin", data)
		if src == nil {
			return nil, "", err
		}
		return src, w.Dir, nil
	}
	shown := DisplayPath(w.Dir, path)
	data, err := readFile(ctx, path, shown)
	if err != nil {
		return nil, "", err
	}
	src, err := Decode(path, data)
	if src == nil {
		return nil, "", err
	}
	src.Path = shown
	return src, filepath.Dir(path), nil
}

// DisplayPath is p as messages show it: relative to dir when it is
// inside dir, else as it is.
func DisplayPath(dir, p string) string {
	if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// readFile reads a configuration file (name is how messages call it).
func readFile(ctx context.Context, path, name string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, problem.New(problem.Config, "reading config", err, "check the path given with --config")
	}
	defer f.Close()
	return ReadLimited(ctx, f, name)
}

// ReadLimited reads a configuration from r: at most MaxFileSize bytes, and
// it gives up as soon as ctx is done (a pipe that never closes, Ctrl-C).
func ReadLimited(ctx context.Context, r io.Reader, name string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
		done <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-done:
		if res.err != nil {
			return nil, problem.New(problem.Config, "reading config "+name, res.err, "check the path given with --config")
		}
		if len(res.b) > MaxFileSize {
			return nil, problem.New(problem.Config, "", fmt.Errorf("%s: larger than %d KiB; a devcluster configuration is a small YAML file", name, MaxFileSize>>10),
				"check the path given with --config")
		}
		return res.b, nil
	}
}
