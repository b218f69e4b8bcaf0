package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
)

const findDoc = "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nname: found\n"

func TestFindDefaultFileFileAndStdin(t *testing.T) {
	dir := t.TempDir()
	// No --config and no devcluster.yaml: no file, paths start at dir.
	src, base, err := Find(t.Context(), Where{Dir: dir})
	if err != nil || src != nil || base != dir {
		t.Fatalf("no file: src %v, base %q, err %v", src, base, err)
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte(findDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	src, base, err = Find(t.Context(), Where{Dir: dir})
	if err != nil || src == nil || src.File.Name != "found" || src.Path != DefaultFile || base != dir {
		t.Fatalf("default file: src %+v, base %q, err %v", src, base, err)
	}
	// A file relative to the working directory: shown as given, its
	// directory is where its relative paths start.
	sub := filepath.Join(dir, "ci")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "other.yaml"), []byte(strings.Replace(findDoc, "found", "other", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	src, base, err = Find(t.Context(), Where{Path: "ci/other.yaml", Dir: dir})
	if err != nil || src.File.Name != "other" || src.Path != filepath.Join("ci", "other.yaml") || base != sub {
		t.Fatalf("--config ci/other.yaml: src %+v, base %q, err %v", src, base, err)
	}
	// Standard input: relative paths start at the working directory.
	src, base, err = Find(t.Context(), Where{Path: "-", Dir: dir, Stdin: strings.NewReader(strings.Replace(findDoc, "found", "piped", 1))})
	if err != nil || src.File.Name != "piped" || src.Path != "stdin" || base != dir {
		t.Fatalf("--config -: src %+v, base %q, err %v", src, base, err)
	}
}

func TestFindFailures(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Find(t.Context(), Where{Path: "absent.yaml", Dir: dir})
	if problem.KindOf(err) != problem.Config || !strings.Contains(err.Error(), "absent.yaml") || problem.FixOf(err) != "check the path given with --config" {
		t.Errorf("missing file: %v (kind %v, fix %q)", err, problem.KindOf(err), problem.FixOf(err))
	}
	_, _, err = Find(t.Context(), Where{Path: "-", Dir: dir, Stdin: strings.NewReader("")})
	if problem.KindOf(err) != problem.Config || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("empty stdin: %v", err)
	}
	// A document with a field of the wrong type is returned to be
	// validated, with its problem kept for Complete to report.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(findDoc+"cpus: [2]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, _, err := Find(t.Context(), Where{Path: bad, Dir: dir})
	if err != nil || src == nil {
		t.Fatalf("partly decoded file: src %v, err %v", src, err)
	}
	if _, err := Complete(src, Overrides{BaseDir: dir}); err == nil || !strings.Contains(err.Error(), "line 4: cpus: expected a string, got a list") {
		t.Errorf("Complete of the partly decoded file: %v", err)
	}
	// An interrupted read of a pipe that never closes ends at once.
	r, w, _ := os.Pipe()
	defer w.Close()
	defer r.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := Find(ctx, Where{Path: "-", Dir: dir, Stdin: r}); err == nil {
		t.Error("cancelled read of standard input: no error")
	}
}
