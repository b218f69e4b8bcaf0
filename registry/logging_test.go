package registry

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// syncBuffer is a log destination the server writes to from its handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A push asks with HEAD whether each blob and the manifest exist; the 404
// answers are how it learns what to upload, not errors. Distribution logs
// each as level=error "response completed with error": the registry's log
// holds none of them, while a real error (a GET of a missing manifest)
// still is one.
func TestNotFoundAnswersToHEADAreNotErrors(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var log syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		s, err := New(ctx, Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}, Log: &log, Verbose: verbose})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx) }()
		host := s.Addrs()[0]
		img, _ := random.Image(1024, 2)
		if err := remote.Write(mustRef(t, host+"/app:v1"), img); err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Image(mustRef(t, host+"/app:missing")); err == nil {
			t.Fatal("a missing tag was found")
		}
		cancel()
		<-done
		out := log.String()
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "level=error") && strings.Contains(line, "HEAD") {
				t.Errorf("verbose %v: a HEAD's 404 is logged as an error:\n%s", verbose, line)
			}
		}
		if !strings.Contains(out, "level=error") || !strings.Contains(out, "manifest unknown") {
			t.Errorf("verbose %v: the GET of a missing manifest is not logged as an error:\n%s", verbose, out)
		}
	}
}
