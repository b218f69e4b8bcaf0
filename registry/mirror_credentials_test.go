package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// The test binary is also the mirrors' credential helper when
// helperEnv is set, as devcluster is through `mirror credential-helper`.
const helperEnv = "DEVCLUSTER_TEST_MIRROR_HELPER"

func TestMain(m *testing.M) {
	if v := os.Getenv(helperEnv); v != "" && len(os.Args) > 1 && os.Args[len(os.Args)-1] == "get" {
		var mirrors []Mirror
		_ = json.Unmarshal([]byte(v), &mirrors)
		if err := CredentialHelper(os.Stdin, os.Stdout, mirrors, authn.DefaultKeychain); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// dockerConfig writes a Docker configuration (DOCKER_CONFIG) with the
// given auths and credential helpers, and a fake docker-credential-fake on
// PATH answering user "helper-user" for any host.
func dockerConfig(t *testing.T, auths map[string]string, helpers map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{"auths": map[string]any{}, "credHelpers": helpers}
	for host, userpass := range auths {
		cfg["auths"].(map[string]any)[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(userpass))}
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	script := "#!/bin/sh\nread host\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"helper-user\",\"Secret\":\"helper-secret-for-%s\"}' \"$host\" \"$host\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-fake"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", bin+":/usr/bin:/bin")
}

func TestCredentialHelperLooksUpTheMirrorsKeychain(t *testing.T) {
	dockerConfig(t, map[string]string{"https://index.docker.io/v1/": "hub-user:hub-pass"}, map[string]string{"127.0.0.1:5999": "fake"})
	hub := Mirror{Upstream: "docker.io", Remote: "https://registry-1.docker.io"}
	local := Mirror{Upstream: "ghcr.io", Remote: "http://127.0.0.1:5999"}
	other := Mirror{Upstream: "docker.io", Remote: "https://mirror.example"}
	cases := []struct {
		mirrors    []Mirror
		host       string
		user, pass string
	}{
		// Docker Hub's token realm, with the docker login of docker.io.
		{[]Mirror{hub, local}, "auth.docker.io", "hub-user", "hub-pass"},
		{[]Mirror{hub, local}, "registry-1.docker.io", "hub-user", "hub-pass"},
		// A remote on loopback: its own host's credential helper.
		{[]Mirror{hub, local}, "127.0.0.1:5999", "helper-user", "helper-secret-for-127.0.0.1:5999"},
		// A host of no mirror: nothing.
		{[]Mirror{hub, local}, "evil.example", "", ""},
		// docker.io's credentials never go to another remote.
		{[]Mirror{other}, "mirror.example", "", ""},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		if err := CredentialHelper(strings.NewReader(tc.host+"\n"), &out, tc.mirrors, authn.DefaultKeychain); err != nil {
			t.Fatalf("%s: %v", tc.host, err)
		}
		var r credentialReply
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Username != tc.user || r.Secret != tc.pass {
			t.Errorf("%s: got %q/%q, want %q/%q", tc.host, r.Username, r.Secret, tc.user, tc.pass)
		}
	}
}

// An upstream that needs basic authentication gets the credentials of the
// Docker configuration, through Distribution's exec helper.
func TestMirrorOfABasicAuthUpstream(t *testing.T) {
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t, img)
	// From now on the upstream wants user:pw.
	inner := up.srv.Config.Handler
	up.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "mirror-user" || p != "mirror-pass" {
			w.Header().Set("WWW-Authenticate", `Basic realm="upstream"`)
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	})
	host := strings.TrimPrefix(up.srv.URL, "http://")
	dockerConfig(t, map[string]string{host: "mirror-user:mirror-pass"}, nil)
	mirrors := []Mirror{{Upstream: "docker.io", Remote: up.srv.URL}}
	b, _ := json.Marshal(mirrors)
	t.Setenv(helperEnv, string(b))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, addr, _ := startMirrorWith(t, MirrorOptions{StoreDir: t.TempDir(), Mirrors: mirrors, TTL: time.Hour, CredentialHelper: exe, StoreWait: time.Second})
	want, _ := img.Digest()
	if got, err := pullAll(t, addr+"/library/app:v1"); err != nil || got != want {
		t.Fatalf("pull through the mirror of a basic-auth upstream: %v %v", got, err)
	}
}
