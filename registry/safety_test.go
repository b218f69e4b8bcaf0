package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"
)

// A port that is taken, or an address that is not one, is an error that says
// so — never a nil-pointer panic in the cleanup (the named result used to be
// nil when the deferred cleanup ran).
func TestNewExplainsAddressesItCannotListenOn(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name, addr, want string
		dataDir          bool
	}{
		{"taken port with storage", "127.0.0.1:" + port, "port " + port + " is in use by PID " + strconv.Itoa(os.Getpid()), true},
		{"taken port without storage", "127.0.0.1:" + port, "port " + port + " is in use", false},
		{"not an address", "nope", `invalid listen address "nope"`, true},
		{"bad port", "127.0.0.1:99999", "the port must be a number", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ""
			if tc.dataDir {
				dir = t.TempDir()
			}
			var s *Server
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("New panicked: %v", r)
					}
				}()
				s, err = New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0", tc.addr}})
			}()
			if err == nil {
				s.Close()
				t.Fatalf("New(%s) succeeded", tc.addr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
			if tc.dataDir {
				// The failed start released the directory.
				s2, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}})
				if err != nil {
					t.Fatalf("the directory stayed locked after a failed start: %v", err)
				}
				s2.Close()
			}
		})
	}
}

func TestSecondServerOnTheSameDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	s1, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}, Holder: "devcluster registry serve"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second server: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())+" (devcluster registry serve)") {
		t.Errorf("error does not name the holder: %v", err)
	}
	if _, err := GarbageCollect(context.Background(), dir, GCOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("gc beside a server: err = %v, want ErrLocked", err)
	}
	s1.Close()
	s2, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatalf("after the first server closed: %v", err)
	}
	s2.Close()
}

func TestGCWaitsForTheLockThenRuns(t *testing.T) {
	dir := t.TempDir()
	s, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(300 * time.Millisecond); s.Close() }()
	if _, err := GarbageCollect(context.Background(), dir, GCOptions{LockWait: 10 * time.Second}); err != nil {
		t.Fatalf("gc did not wait for the server to let go: %v", err)
	}
}

// A collection that deletes blobs prints nothing unless asked: Distribution
// logs every deleted blob through logrus, which writes to stderr by default.
func TestGCIsQuiet(t *testing.T) {
	dir := t.TempDir()
	_, host, stop := startStoppable(t, dir)
	img, _ := random.Image(1024, 2)
	if err := remote.Write(mustRef(t, host+"/app:v1"), img); err != nil {
		t.Fatal(err)
	}
	other, _ := random.Image(1024, 2)
	if err := remote.Write(mustRef(t, host+"/app:v1"), other); err != nil {
		t.Fatal(err)
	}
	stop()
	// A fresh process: logrus at its defaults.
	logrus.SetOutput(os.Stderr)
	logrus.SetLevel(logrus.InfoLevel)
	r, w, _ := os.Pipe()
	saved := os.Stderr
	os.Stderr = w
	logrus.SetOutput(w)
	res, err := GarbageCollect(context.Background(), dir, GCOptions{RemoveUntagged: true})
	os.Stderr = saved
	_ = w.Close()
	leaked, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesAfter >= res.BytesBefore {
		t.Errorf("nothing was collected: %+v", res)
	}
	if len(bytes.TrimSpace(leaked)) > 0 {
		t.Errorf("gc wrote to stderr:\n%s", leaked)
	}
	var log bytes.Buffer
	_, host, stop = startStoppable(t, dir)
	_ = host
	stop()
	if _, err := GarbageCollect(context.Background(), dir, GCOptions{Log: &log}); err != nil {
		t.Fatal(err)
	}
}

func TestDataDirMarkerAndOwnership(t *testing.T) {
	root := t.TempDir()
	fresh := filepath.Join(root, "fresh")
	if err := PrepareDataDir(fresh); err != nil {
		t.Fatal(err)
	}
	if err := OwnedDataDir(fresh); err != nil {
		t.Errorf("a directory devcluster created: %v", err)
	}
	// A directory with the user's files is used but never marked.
	user := filepath.Join(root, "user")
	_ = os.MkdirAll(user, 0o755)
	_ = os.WriteFile(filepath.Join(user, "notes.txt"), []byte("mine"), 0o600)
	if err := PrepareDataDir(user); err != nil {
		t.Fatal(err)
	}
	if err := OwnedDataDir(user); err == nil {
		t.Error("a directory holding a user's file was taken as devcluster's")
	}
	// A marked directory into which something else was put is not owned.
	_ = os.WriteFile(filepath.Join(fresh, "later.txt"), []byte("x"), 0o600)
	if err := OwnedDataDir(fresh); err == nil || !strings.Contains(err.Error(), "later.txt") {
		t.Errorf("marked directory with a foreign file: %v", err)
	}
	// Registry storage under the marker is owned.
	store := filepath.Join(root, "store")
	if err := PrepareDataDir(store); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(store, "docker", "registry", "v2", "blobs"), 0o700)
	if err := OwnedDataDir(store); err != nil {
		t.Errorf("marked registry storage: %v", err)
	}
	unmarked := filepath.Join(root, "unmarked")
	_ = os.MkdirAll(filepath.Join(unmarked, "docker", "registry", "v2"), 0o700)
	if err := OwnedDataDir(unmarked); !errors.Is(err, ErrNotMarked) {
		t.Errorf("unmarked storage: %v, want ErrNotMarked", err)
	}
}

// Idle keep-alive connections are closed (they used to stay open forever),
// and a client that never finishes its request headers is cut off.
func TestIdleAndSlowConnectionsAreClosed(t *testing.T) {
	savedIdle, savedHeader := idleTimeout, readHeaderTimeout
	idleTimeout, readHeaderTimeout = 300*time.Millisecond, 300*time.Millisecond
	defer func() { idleTimeout, readHeaderTimeout = savedIdle, savedHeader }()
	_, host := start(t, t.TempDir())
	for _, tc := range []struct{ name, send string }{
		{"idle keep-alive", "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"unfinished headers", "GET /v2/ HTTP/1.1\r\nHost: x\r\n"},
	} {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.Copy(io.Discard, c) // returns when the server closes
		_ = c.Close()
		if err != nil {
			t.Errorf("%s: the connection was not closed by the server within 5 s: %v", tc.name, err)
		} else if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: closed after %s", tc.name, d)
		}
	}
}
