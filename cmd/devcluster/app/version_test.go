package app

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/install"
)

// stamp sets the link-time variables as the release build does, for one
// test (these tests do not run in parallel).
func stamp(t *testing.T, version, commit, date string) {
	oldV, oldC, oldD := Version, Commit, Date
	Version, Commit, Date = version, commit, date
	t.Cleanup(func() { Version, Commit, Date = oldV, oldC, oldD })
}

func TestVersionNamesCommitDateAndPinnedTools(t *testing.T) {
	stamp(t, "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-01-02T03:04:05Z")
	h := newHarness(t)
	if code := h.run("version", "-o", "json"); code != 0 {
		t.Fatal(code, h.stderr.String())
	}
	var v versionInfo
	if err := json.Unmarshal(h.stdout.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	want := versionInfo{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-01-02T03:04:05Z",
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Pinned: pinnedTools{Minikube: install.Minikube.Version, Kind: install.Kind.Version}}
	if v != want {
		t.Errorf("version -o json = %+v, want %+v", v, want)
	}
	for _, key := range []string{`"version"`, `"commit"`, `"date"`, `"pinned"`, `"minikube"`, `"kind"`} {
		if !strings.Contains(h.stdout.String(), key) {
			t.Errorf("version -o json lacks %s:\n%s", key, h.stdout.String())
		}
	}
	if code := h.run("version", "-o", "yaml"); code != 0 {
		t.Fatal(code)
	}
	var m map[string]any
	if err := yaml.Unmarshal(h.stdout.Bytes(), &m); err != nil || m["commit"] != want.Commit || m["pinned"].(map[string]any)["kind"] != install.Kind.Version {
		t.Errorf("version -o yaml = %s (%v)", h.stdout.String(), err)
	}
	if code := h.run("version"); code != 0 {
		t.Fatal(code)
	}
	out := h.stdout.String()
	for _, s := range []string{"devcluster v1.2.3 (commit 0123456789ab, built 2026-01-02T03:04:05Z) " + runtime.Version(),
		"minikube  " + install.Minikube.Version, "kind      " + install.Kind.Version, "Commit    0123456789abcdef0123456789abcdef01234567"} {
		if !strings.Contains(out, s) {
			t.Errorf("version lacks %q:\n%s", s, out)
		}
	}
	if code := h.run("version", "extra"); code != ExitUsage {
		t.Errorf("version extra: exit %d", code)
	}
}

// --version prints the one line wherever it is, and nothing runs: not
// the command it is given with, not even one that would fail.
func TestVersionFlag(t *testing.T) {
	stamp(t, "v1.2.3", "abc", "")
	h := newHarness(t)
	for _, args := range [][]string{{"--version"}, {"-q", "--version"}, {"up", "--version"}, {"down", "--name", "x", "--version"}} {
		if code := h.run(args...); code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, code, h.stderr.String())
		}
		if got, want := h.stdout.String(), "devcluster v1.2.3 (commit abc) "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n"; got != want {
			t.Errorf("%q printed %q, want %q", args, got, want)
		}
		if h.stderr.Len() != 0 {
			t.Errorf("%q: stderr %q (the command ran?)", args, h.stderr.String())
		}
	}
	if code := h.run("status"); code != ExitNotRunning {
		t.Errorf("the cluster was created by up --version? status exit %d", code)
	}
	// -v is --verbose, as before: not the version.
	if code := h.run("-v", "version"); code != 0 || !strings.Contains(h.stdout.String(), "Commit") {
		t.Errorf("-v version: exit %d\n%s", code, h.stdout.String())
	}
}

// Without link-time stamps (go install) the commit and date come from
// Go's VCS stamp, marked dirty when the tree had changes.
func TestVersionFromVCSStamp(t *testing.T) {
	v := versionInfo{}
	fromVCS(&v, []debug.BuildSetting{{Key: "vcs.revision", Value: "feedface"}, {Key: "vcs.time", Value: "2026-02-03T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}})
	if v.Commit != "feedface-dirty" || v.Date != "2026-02-03T00:00:00Z" {
		t.Errorf("fromVCS = %+v", v)
	}
	v = versionInfo{Commit: "linked", Date: "linked-date"}
	fromVCS(&v, []debug.BuildSetting{{Key: "vcs.revision", Value: "feedface"}, {Key: "vcs.time", Value: "x"}})
	if v.Commit != "linked" || v.Date != "linked-date" {
		t.Errorf("the linker's stamps were replaced: %+v", v)
	}
	if got := shortCommit("0123456789abcdef-dirty"); got != "0123456789ab-dirty" {
		t.Errorf("shortCommit = %q", got)
	}
}
