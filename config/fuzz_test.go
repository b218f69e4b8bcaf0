package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/problem"
)

// FuzzDecode feeds malformed configuration files to Decode and Complete.
// Neither may panic or hang, decoding may not allocate more than 64 MiB,
// and every problem reported — of either phase — must name a line.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"
	for _, s := range []string{
		"", "---", "~", "[]", "{}", "- a", "\t", "\x00", "apiVersion: [x]\nkind: {y: z}\n",
		head + "cpus: 2\ncpus: 3\n", head + "registry: 5\n", head + "registry:\n  port: [1]\n",
		head + "---\n---\nfoo: [\n", head + "a: &a [*a, *a]\n", head + "x: &x {a: *x}\n",
		head + "workloads:\n  manifests: [\"\", \"..\", \"/\"]\n", head + "memory: !!binary AAAA\n",
		head + "name: " + strings.Repeat("a", 300) + "\n", head + "extraStartArgs: [--cpus=4, 1, {a: b}]\n",
		"a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
		head + "? [a, b]\n: c\n", head + "<<: {cpus: 4}\n", head + "cpus: 0x10\nmemory: .inf\nwait: 1e9\n",
		head + "portMappings: [5, {containerPort: x}, {containerPort: 0}]\nnmae: x\n", head + "registry: {port: [1], prot: 2, enabled: no}\nworkers: x\n",
	} {
		f.Add([]byte(s))
	}
	line := regexp.MustCompile(`line \d+`)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxFileSize {
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		done := make(chan error, 1)
		go func() {
			// Both phases: a document that decoded with problems is
			// validated too.
			src, err := Decode("devcluster.yaml", data)
			if src != nil {
				_, err = Complete(src, Overrides{BaseDir: "/base"})
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Decode/Complete hung on %q", data)
		}
		runtime.ReadMemStats(&after)
		if used := after.TotalAlloc - before.TotalAlloc; used > 64<<20 {
			t.Fatalf("decoding %d bytes allocated %d MiB", len(data), used>>20)
		}
		if err == nil {
			return
		}
		if problem.KindOf(err) != problem.Config {
			t.Fatalf("error of kind %v (want a configuration error): %v", problem.KindOf(err), err)
		}
		var list *problem.List
		if !errors.As(err, &list) {
			t.Fatalf("error is not a list of problems: %v", err)
		}
		for _, p := range list.Problems {
			if !line.MatchString(p) {
				t.Fatalf("problem names no line: %q (input %q)", p, data)
			}
		}
	})
}
