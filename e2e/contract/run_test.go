//go:build contract

package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// nobody is the unprivileged user the binaries run as, unless a case is
// about root.
const nobody = 65534

// world is what a binary sees besides its arguments.
type world struct {
	docker string // a docker state
	root   bool   // run as root instead of nobody
}

func (w world) String() string {
	user := "user"
	if w.root {
		user = "root"
	}
	return "docker " + w.docker + ", " + user
}

func (w world) uid() int {
	if w.root {
		return 0
	}
	return nobody
}

// home is one fresh MINIKUBE_HOME/HOME/KUBECONFIG, owned by the world's
// user.
type home struct {
	dir string
	w   world
}

var homes atomic.Int64

func newHome(t *testing.T, w world) *home {
	t.Helper()
	dir := filepath.Join(work, "homes", strconv.FormatInt(homes.Add(1), 10))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &home{dir: dir, w: w}
	h.chown(t)
	return h
}

// chown gives the home to the world's user (setup steps run as root).
func (h *home) chown(t *testing.T) {
	t.Helper()
	uid := h.w.uid()
	err := filepath.Walk(h.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (h *home) env(standin bool) []string {
	// PATH holds docker or nothing: no other driver is installed (the
	// none driver, for one, needs iptables on PATH).
	env := []string{
		"PATH=" + dockerPath(h.w.docker),
		"HOME=" + h.dir,
		"MINIKUBE_HOME=" + h.dir,
		"KUBECONFIG=" + filepath.Join(h.dir, "kubeconfig"),
		// No update check: real minikube would look for a newer release.
		"MINIKUBE_WANTUPDATENOTIFICATION=false",
		"LANG=C",
	}
	if !standin {
		return env
	}
	env = append(env, "STANDIN_EUID="+strconv.Itoa(h.w.uid()))
	switch h.w.docker {
	case dockerAbsent:
		env = append(env, "STANDIN_NO_DOCKER=1", "STANDIN_INSTALLED_DRIVERS=ssh")
	case dockerDown:
		env = append(env, "STANDIN_DOCKER_DOWN=1", "STANDIN_INSTALLED_DRIVERS=docker,ssh")
	case dockerHealthy:
		// Real minikube gets past validation and then fails to
		// provision: the daemon creates nothing.
		env = append(env, "STANDIN_FAIL_START=GUEST_PROVISION", "STANDIN_INSTALLED_DRIVERS=docker,ssh")
	}
	return env
}

// outcome is what one run produced, reduced to what devcluster relies on.
type outcome struct {
	argv           []string
	code           int
	stdout, stderr string
	// named are the error events with a name ("NAME exit N") and
	// unnamed counts the others; types are the event types that occur.
	named   []string
	unnamed int
	types   []string
	// reasons are the reason IDs of "Exiting due to ID:" lines (text
	// output).
	reasons []string
	// fields are the JSON fields devcluster reads, flattened.
	fields map[string]string
	// ran is how long it took; home is where.
	ran  time.Duration
	home string
}

// exec runs one binary in the home: in a network namespace of its own,
// as the world's user, with only the environment above.
func (h *home) exec(t *testing.T, standin bool, args ...string) outcome {
	t.Helper()
	bin := realMinikube
	if standin {
		bin = standIn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	setpriv, _ := exec.LookPath("setpriv")
	argv := []string{"--net", "--"}
	if !h.w.root {
		argv = append(argv, setpriv, "--reuid="+strconv.Itoa(nobody), "--regid="+strconv.Itoa(nobody), "--clear-groups", "--")
	}
	argv = append(append(argv, bin), args...)
	cmd := exec.CommandContext(ctx, "unshare", argv...)
	cmd.Env = h.env(standin)
	cmd.Dir = h.dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	out := outcome{argv: args, stdout: o.String(), stderr: e.String(), ran: time.Since(start), home: h.dir}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		out.code = exit.ExitCode()
	default:
		t.Fatalf("running %s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, e.String())
	}
	out.parse()
	return out
}

var exitingDueTo = regexp.MustCompile(`Exiting due to ([A-Z0-9_]+):`)

func (o *outcome) parse() {
	seen := map[string]bool{}
	for _, line := range strings.Split(o.stdout, "\n") {
		var ev struct {
			SpecVersion string            `json:"specversion"`
			Type        string            `json:"type"`
			Data        map[string]string `json:"data"`
		}
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &ev) != nil || ev.SpecVersion == "" {
			continue
		}
		if !seen[ev.Type] {
			seen[ev.Type] = true
			o.types = append(o.types, ev.Type)
			sort.Strings(o.types)
		}
		if ev.Type != "io.k8s.sigs.minikube.error" {
			continue
		}
		if ev.Data["name"] == "" {
			o.unnamed++
			continue
		}
		o.named = append(o.named, ev.Data["name"]+" exit "+ev.Data["exitcode"])
	}
	for _, m := range exitingDueTo.FindAllStringSubmatch(o.stdout+o.stderr, -1) {
		o.reasons = append(o.reasons, m[1])
	}
	o.fields = map[string]string{}
	if o.argv[0] == "ip" && o.code == 0 {
		o.fields["ip"] = strings.TrimSpace(o.stdout)
	}
	if !slices.Contains(o.argv, "json") && !slices.Contains(o.argv, "--output=json") {
		return
	}
	if len(o.types) > 0 {
		return // CloudEvents, compared above
	}
	var v any
	if err := json.Unmarshal([]byte(strings.TrimSpace(o.stdout)), &v); err != nil {
		if strings.TrimSpace(o.stdout) != "" {
			o.fields["stdout"] = "not JSON: " + strings.TrimSpace(o.stdout)
		}
		return
	}
	flatten("", v, o.fields)
	for k := range o.fields {
		if !readByDevcluster(k) {
			delete(o.fields, k)
		}
	}
}

// devclusterReads are the JSON keys devcluster reads from `version -o
// json`, `status -o json` and a profile's config (which `profile list -o
// json` prints): a flattened path is compared when one of its elements is
// among them.
var devclusterReads = map[string]bool{
	"minikubeVersion": true, "commit": true,
	"Name": true, "Host": true, "Kubelet": true, "APIServer": true, "Kubeconfig": true, "Worker": true,
	"Driver": true, "CPUs": true, "Memory": true, "InsecureRegistry": true, "KubernetesVersion": true,
	"ClusterName": true, "ContainerRuntime": true, "IP": true, "Port": true, "ControlPlane": true,
	"invalid": true, "valid": true,
}

func readByDevcluster(path string) bool {
	if path == "" {
		return true // a bare value, such as null
	}
	for _, el := range strings.Split(path, ".") {
		if devclusterReads[el] && el != "valid" && el != "invalid" {
			return true
		}
	}
	// The lists themselves: their length.
	return path == "valid.len" || path == "invalid.len"
}

func flatten(prefix string, v any, into map[string]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			flatten(join(k), x, into)
		}
	case []any:
		into[join("len")] = strconv.Itoa(len(v))
		for i, x := range v {
			flatten(join(strconv.Itoa(i)), x, into)
		}
	default:
		b, _ := json.Marshal(v)
		into[prefix] = string(b)
	}
}

// difference is one aspect in which the two binaries disagree.
type difference struct {
	aspect        string
	real, standin string
}

func compare(real, standin outcome) []difference {
	var d []difference
	add := func(aspect, r, s string) {
		if r != s {
			d = append(d, difference{aspect, r, s})
		}
	}
	add("exit code", strconv.Itoa(real.code), strconv.Itoa(standin.code))
	add("error events", strings.Join(real.named, ", "), strings.Join(standin.named, ", "))
	add("unnamed error events", strconv.Itoa(real.unnamed), strconv.Itoa(standin.unnamed))
	add("event types", strings.Join(real.types, ", "), strings.Join(standin.types, ", "))
	add("reasons", strings.Join(real.reasons, ", "), strings.Join(standin.reasons, ", "))
	keys := map[string]bool{}
	for k := range real.fields {
		keys[k] = true
	}
	for k := range standin.fields {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		r, ok := real.fields[k]
		if !ok {
			r = "(absent)"
		}
		s, ok := standin.fields[k]
		if !ok {
			s = "(absent)"
		}
		add("field "+k, r, s)
	}
	return d
}

// table renders differences for a failure message.
func table(ds []difference) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-32s | %-40s | %s\n", "aspect", "real minikube", "stand-in")
	for _, d := range ds {
		fmt.Fprintf(&b, "  %-32s | %-40s | %s\n", d.aspect, d.real, d.standin)
	}
	return b.String()
}
