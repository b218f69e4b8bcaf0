package config

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/devcluster/devcluster/internal/problem"
)

func TestLoadTestdataAndExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob("../examples/*.yaml")
	ci, _ := filepath.Glob("../examples/ci/devcluster.yaml")
	examples = append(examples, ci...)
	if err != nil {
		t.Fatal(err)
	}
	if len(examples) == 0 {
		t.Fatal("no example configs found in examples/")
	}
	for _, path := range append(files, examples...) {
		path := path
		valid := !strings.HasPrefix(filepath.Base(path), "invalid-")
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			src, err := Load(path)
			if src != nil {
				_, err = Complete(src, Overrides{})
			}
			if valid && err != nil {
				t.Fatalf("Load+Complete(%s) = %v, want no error", path, err)
			}
			if !valid && err == nil {
				t.Fatalf("Load+Complete(%s) succeeded, want an error", path)
			}
		})
	}
}

func TestInvalidFilesReportEveryProblemWithLines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		want []string
	}{
		{"invalid-unknown-field.yaml", []string{`line 4: cpu: unknown field; did you mean cpus?`, `line 5: memmory: unknown field; did you mean memory?`}},
		// A field of the wrong type hides none of the values' problems.
		{"invalid-type-and-values.yaml", []string{`testdata/invalid-type-and-values.yaml: 8 problems:
  - line 3: nmae: unknown field; did you mean name?
  - line 4: cpus: expected a string, got a list
  - line 5: memory: requested memory allocation 1000MiB is less than the usable minimum of 1800MB
  - line 6: driver: unknown driver "hyperdrive"`, `
  - line 8: registry.prot: unknown field; did you mean port?
  - line 9: registry.port: invalid port 70000: use 1-65535
  - line 11: workloads.timeout: invalid duration "forever": use a positive duration such as 5m
  - line 12: workloads.manifest: unknown field; did you mean manifests?`}},
		{"invalid-values.yaml", []string{
			"line 3: name: invalid name \"bad_name\"",
			"line 4: cpus: requested cpu count 1 is less than the minimum allowed of 2",
			"line 5: memory: requested memory allocation 1000MiB is less than the usable minimum of 1800MB",
			"line 6: driver: unknown driver \"hyperdrive\"",
			"line 7: containerRuntime: invalid container runtime \"rkt\"",
			"line 8: kubernetesVersion: invalid kubernetesVersion \"one.two\"",
			"line 10: insecureRegistries[0]: invalid insecure registry \"ftp://x:5000\"",
			"line 12: extraStartArgs[0]: extraStartArgs entry \"--memory=8g\": set the \"memory\" field instead",
			"line 13: wait: invalid duration \"forever\"",
			"line 15: registry.port: invalid port 70000",
			"line 16: registry.clusterAddress: invalid address \"192.168.49.1:5000\"",
			"line 18: registry.listenAddresses[0]: invalid address \"localhost\"",
			"12 problems",
		}},
		{"invalid-api-version.yaml", []string{`unsupported apiVersion "devcluster.dev/v1"`, `unknown kind "Clusters"`}},
		{"invalid-no-limit-vm.yaml", []string{`line 4: cpus: the "kvm2" driver does not support cpus: no-limit`, `line 5: memory: the "kvm2" driver does not support memory: no-limit`}},
		{"invalid-wrong-type.yaml", []string{"line 3: cpus: expected a string, got a list", `line 4: extraStartArgs: expected a list of strings, got a string "--addon..."`}},
		{"invalid-two-documents.yaml", []string{"line 3: a second document was found"}},
		{"invalid-existing.yaml", []string{
			"line 3: provider: provider existing needs the kubeconfig context",
			"line 4: cpus: only for provider minikube",
			"line 5: driver: only for provider minikube",
			"line 6: insecureRegistries: only for provider minikube",
			"line 8: registry.enabled: the registry needs registry.clusterAddress with provider existing",
			"line 10: loadBalancer.enabled: the LoadBalancer controller needs loadBalancer.ip with provider existing",
			"6 problems",
		}},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			// A file that decoded with problems still yields its Source:
			// Complete reports them with the values' own.
			src, err := Load(filepath.Join("testdata", tc.file))
			if src != nil {
				_, err = Complete(src, Overrides{})
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestCompleteDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	got, err := Complete(nil, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Name: "devcluster", Provider: "minikube", CPUs: CPUs{Count: 2}, Memory: Memory{MB: 4096},
		ContainerRuntime: "containerd", Wait: 5 * time.Minute, InsecureRegistries: nil, ExtraStartArgs: nil,
		Registry: Registry{Enabled: true, Port: 5001, Mirrors: defaultMirrors(), MirrorTTL: DefaultMirrorTTL}, LoadBalancer: LoadBalancer{Enabled: true, Address: "auto"},
		Workloads: Workloads{Samples: true, SampleBase: DefaultSampleBase, Timeout: 5 * time.Minute}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}

	src, err := Load("testdata/valid-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cpus, name := "6", "override"
	got, err = Complete(src, Overrides{CPUs: &cpus, Name: &name, InsecureRegistry: []string{"127.0.0.1:5001"}, BaseDir: "/srv", Manifests: []string{"/etc/app.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	want = &Config{Name: "override", Provider: "minikube", CPUs: CPUs{Count: 6}, Memory: Memory{MB: 8192},
		Driver: "docker", ContainerRuntime: "crio", KubernetesVersion: "v1.35.1",
		InsecureRegistries: []string{"127.0.0.1:5001"},
		ExtraStartArgs:     []string{"--addons=metrics-server", "--apiserver-port=8443"}, Wait: 90 * time.Second,
		Registry: Registry{Enabled: true, Port: 5005, ClusterAddress: "192.168.49.1", Listen: []string{"127.0.0.1", "192.168.49.1"}, DataDir: "/var/tmp/devcluster-registry",
			Mirrors: defaultMirrors(), MirrorTTL: DefaultMirrorTTL},
		LoadBalancer: LoadBalancer{Enabled: true, IP: "192.168.49.2", Address: "auto"},
		Workloads:    Workloads{Samples: false, SampleBase: "oci:/var/tmp/nginx-layout", Manifests: []string{"/srv/k8s", "/etc/app.yaml"}, Timeout: 2 * time.Minute}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("file + flags (-want +got):\n%s", d)
	}
}

// loadBalancer.address: auto by default, node and localhost as asked (the
// flag wins), anything else refused with the valid values, every problem at
// once; provider existing needs no loadBalancer.ip in localhost mode.
func TestCompleteLBAddress(t *testing.T) {
	t.Parallel()
	const hdr = "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"
	local, bad, empty := "localhost", "loopback", " "
	got, err := Complete(nil, Overrides{LBAddress: &local})
	if err != nil || got.LoadBalancer.Address != "localhost" {
		t.Fatalf("--lb-address localhost: %+v, %v", got, err)
	}
	if _, err := Complete(nil, Overrides{LBAddress: &bad}); err == nil || !strings.Contains(err.Error(), `--lb-address: unknown address "loopback"; use auto, node, localhost`) {
		t.Errorf("--lb-address loopback: %v", err)
	}
	if _, err := Complete(nil, Overrides{LBAddress: &empty}); err == nil || !strings.Contains(err.Error(), "--lb-address: the value is empty") {
		t.Errorf("--lb-address '': %v", err)
	}
	src, err := Decode("devcluster.yaml", []byte(hdr+"loadBalancer:\n  address: Node\n  ip: 10.0.0.1\ncpus: 1\n"))
	if src == nil {
		t.Fatal(err)
	}
	_, err = Complete(src, Overrides{})
	for _, w := range []string{`line 4: loadBalancer.address: unknown address "Node"; use auto, node, localhost`, "line 6: cpus:", "2 problems"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q:\n%v", w, err)
		}
	}
	src, _ = Decode("devcluster.yaml", []byte(hdr+"loadBalancer:\n  address: localhost\n  ip: 10.0.0.1\n"))
	if _, err := Complete(src, Overrides{}); err == nil || !strings.Contains(err.Error(), "line 5: loadBalancer.ip: only with loadBalancer.address node or auto") {
		t.Errorf("localhost with an ip: %v", err)
	}
	provider, ctx, on := "existing", "other", "localhost"
	src, _ = Decode("devcluster.yaml", []byte(hdr+"provider: existing\ncontext: other\nloadBalancer:\n  enabled: true\n"))
	if _, err := Complete(src, Overrides{}); err == nil || !strings.Contains(err.Error(), "loadBalancer.address: localhost") {
		t.Errorf("existing without ip must name localhost as the other way: %v", err)
	}
	got, err = Complete(src, Overrides{Provider: &provider, Context: &ctx, LBAddress: &on})
	if err != nil || !got.LoadBalancer.Enabled || got.LoadBalancer.Address != "localhost" {
		t.Errorf("existing in localhost mode: %+v, %v", got, err)
	}
}

// Provider existing: the registry and the LoadBalancer controller are off
// unless turned on; the context is the one given.
func TestCompleteExisting(t *testing.T) {
	t.Parallel()
	src, err := Load("testdata/valid-existing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Complete(src, Overrides{BaseDir: "/srv"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Provider != "existing" || got.Context != "staging-admin" || got.Registry.Enabled || got.LoadBalancer.Enabled ||
		got.Workloads.Samples || len(got.Workloads.Manifests) != 1 {
		t.Errorf("got %+v", got)
	}
	provider, ctx := "existing", "other"
	if got, err = Complete(nil, Overrides{Provider: &provider, Context: &ctx}); err != nil || got.Context != "other" || got.Registry.Enabled {
		t.Errorf("from flags: %+v, %v", got, err)
	}
	if _, err := Complete(nil, Overrides{Context: &ctx}); err == nil || !strings.Contains(err.Error(), "--context: only for provider existing") {
		t.Errorf("a context for minikube: %v", err)
	}
	bad := "kind-of"
	if _, err := Complete(nil, Overrides{Provider: &bad}); err == nil || !strings.Contains(err.Error(), `--provider: unknown provider "kind-of"`) {
		t.Errorf("unknown provider: %v", err)
	}
}

// Provider kind: workers and a full Kubernetes version; minikube's
// settings are refused.
func TestCompleteKind(t *testing.T) {
	t.Parallel()
	src, err := Decode("kind.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nprovider: kind\nworkers: 2\nkubernetesVersion: 1.37.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Complete(src, Overrides{})
	if err != nil || got.Workers != 2 || got.KubernetesVersion != "v1.37.0" || got.Provider != "kind" {
		t.Fatalf("got %+v, %v", got, err)
	}
	src, err = Decode("kind.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nprovider: kind\nworkers: -1\nkubernetesVersion: \"1.37\"\nmemory: 8g\ncontainerRuntime: docker\ncontext: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Complete(src, Overrides{})
	for _, want := range []string{"line 4: workers: invalid number of workers -1", "line 5: kubernetesVersion: kind needs a full version",
		"line 6: memory: only for provider minikube", "line 7: containerRuntime: kind nodes run containerd only", "line 8: context: only for provider existing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	src, _ = Decode("m.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nworkers: 2\n"))
	if _, err := Complete(src, Overrides{}); err == nil || !strings.Contains(err.Error(), "line 3: workers: only for provider kind") {
		t.Errorf("workers on minikube: %v", err)
	}
}

func TestPortMappings(t *testing.T) {
	t.Parallel()
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nprovider: kind\nportMappings:\n"
	src, err := Decode("p.yaml", []byte(head+"  - containerPort: 30080\n    hostPort: 8080\n  - containerPort: 30053\n    protocol: udp\n    listenAddress: 0.0.0.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Complete(src, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := []PortMapping{{30080, 8080, "127.0.0.1", "TCP"}, {30053, 30053, "0.0.0.0", "UDP"}}
	if !reflect.DeepEqual(c.PortMappings, want) || c.PortMappings[0].String() != "127.0.0.1:8080->30080/TCP" {
		t.Errorf("port mappings %+v", c.PortMappings)
	}
	src, _ = Decode("p.yaml", []byte(head+"  - containerPort: 0\n  - containerPort: 80\n    protocol: icmp\n    listenAddress: localhost\n  - containerPort: 30080\n    hostPort: 8080\n  - containerPort: 30081\n    hostPort: 8080\n"))
	_, err = Complete(src, Overrides{})
	for _, w := range []string{"line 5: portMappings[0].containerPort: invalid port 0", "line 7: portMappings[1].protocol: invalid protocol \"icmp\"",
		"line 8: portMappings[1].listenAddress: invalid address \"localhost\"", "line 12: portMappings[3].hostPort: 127.0.0.1:8080->30081/TCP is mapped twice (also portMappings[2])"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in %v", w, err)
		}
	}
	src, _ = Decode("p.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nportMappings:\n  - containerPort: 80\n"))
	if _, err := Complete(src, Overrides{}); err == nil || !strings.Contains(err.Error(), "line 3: portMappings: only for provider kind") {
		t.Errorf("port mappings on minikube: %v", err)
	}
}

func TestInstallSection(t *testing.T) {
	t.Parallel()
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\ninstall:\n"
	src, err := Decode("i.yaml", []byte(head+"  minikubeURL: https://mirror.example/minikube/releases\n  kindURL: http://127.0.0.1:8080/kind\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Complete(src, Overrides{})
	if err != nil || c.Install.MinikubeURL != "https://mirror.example/minikube/releases" || c.Install.KindURL != "http://127.0.0.1:8080/kind" {
		t.Fatalf("%+v, %v", c, err)
	}
	if c, _ := Complete(nil, Overrides{}); c.Install != (Install{}) {
		t.Errorf("default install section: %+v", c.Install)
	}
	src, _ = Decode("i.yaml", []byte(head+"  minikubeURL: ftp://mirror.example/m\n  kindURL: https://mirror.example/kind?x=1\n"))
	_, err = Complete(src, Overrides{})
	for _, want := range []string{"line 4: install.minikubeURL: invalid URL \"ftp://mirror.example/m\": use an http:// or https:// URL", "line 5: install.kindURL: invalid URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if _, err := Decode("i.yaml", []byte(head+"  helmURL: https://x\n")); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("unknown field: %v", err)
	}
}

func TestCompleteNamesFlagsInProblems(t *testing.T) {
	t.Parallel()
	mem := "lots"
	_, err := Complete(nil, Overrides{Memory: &mem})
	if err == nil || !strings.Contains(err.Error(), `--memory: cannot parse memory "lots"`) {
		t.Fatalf("got %v", err)
	}
}

func TestParseMemory(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    Memory
		wantErr bool
	}{
		{in: "4096", want: Memory{MB: 4096}},
		{in: "4096mb", want: Memory{MB: 4096}},
		{in: "4096m", want: Memory{MB: 4096}},
		{in: "4096MiB", want: Memory{MB: 4096}},
		{in: "4g", want: Memory{MB: 4096}},
		{in: "4gb", want: Memory{MB: 4096}},
		{in: "4GiB", want: Memory{MB: 4096}},
		{in: "4 GB", want: Memory{MB: 4096}},
		{in: "1.5g", want: Memory{MB: 1536}},
		{in: "1t", want: Memory{MB: 1 << 20}},
		{in: "2097152k", want: Memory{MB: 2048}},
		{in: "max", want: Memory{Special: "max"}},
		{in: "NO-LIMIT", want: Memory{Special: "no-limit"}},
		{in: "foo", wantErr: true},
		{in: "4x", wantErr: true},
		{in: "-4g", wantErr: true},
		{in: "1.2.3g", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range cases {
		got, err := ParseMemory(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseMemory(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("ParseMemory(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseCPUs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]CPUs{"2": {Count: 2}, "16": {Count: 16}, "max": {Special: "max"}, "no-limit": {Special: "no-limit"}} {
		got, err := ParseCPUs(in)
		if err != nil || got != want {
			t.Errorf("ParseCPUs(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"two", "1.5", "-1", ""} {
		if _, err := ParseCPUs(in); err == nil {
			t.Errorf("ParseCPUs(%q) succeeded, want an error", in)
		}
	}
}

func TestValidInsecureRegistry(t *testing.T) {
	t.Parallel()
	good := []string{"192.168.49.1:5000", "localhost:5000", "registry.local", "http://10.0.0.1:5000", "https://reg:443", "10.0.0.0/24", "::1", "[::1]:5000", "reg_1.example:80"}
	bad := []string{"ftp://x:5000", "x:", "-bad", "reg:99999", "reg:port", "", "http://", "a b"}
	for _, r := range good {
		if err := ValidInsecureRegistry(r); err != nil {
			t.Errorf("ValidInsecureRegistry(%q) = %v, want nil", r, err)
		}
	}
	for _, r := range bad {
		if err := ValidInsecureRegistry(r); err == nil {
			t.Errorf("ValidInsecureRegistry(%q) = nil, want an error", r)
		}
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"dev", "my-cluster", "a1", "team.dev"} {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"x", "x_y", "-dev", "dev-", "", "a..b"} {
		if err := ValidName(n); err == nil {
			t.Errorf("ValidName(%q) = nil, want an error", n)
		}
	}
}

func TestNormalizeKubernetesVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"1.35.1": "v1.35.1", "v1.35.1": "v1.35.1", "1.35": "v1.35", "stable": "stable", "": ""} {
		got, err := NormalizeKubernetesVersion(in)
		if err != nil || got != want {
			t.Errorf("NormalizeKubernetesVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeKubernetesVersion("1"); err == nil {
		t.Error("NormalizeKubernetesVersion(\"1\") succeeded")
	}
}

func TestDecodeEmptyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "devcluster.yaml")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "the file is empty") {
		t.Fatalf("got %v", err)
	}
}

// Each structural problem names its line, its field and the real cause —
// not "apiVersion is missing" because the header failed to decode.
func TestDecodeNamesTheRealProblem(t *testing.T) {
	t.Parallel()
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"
	for _, tc := range []struct {
		name, doc string
		want      []string
		notWant   string
	}{
		{"duplicate cpus", head + "cpus: 2\nmemory: 4g\ncpus: 4\n", []string{"line 5: cpus: duplicate key, first given at line 3"}, "apiVersion is missing"},
		{"duplicate kind", head + "kind: Cluster\n", []string{"line 3: kind: duplicate key, first given at line 2"}, "apiVersion is missing"},
		{"nested duplicate", head + "registry:\n  port: 5001\n  port: 5002\n", []string{"line 5: registry.port: duplicate key, first given at line 4"}, ""},
		{"apiVersion list", "apiVersion: [devcluster.dev/v1alpha1]\nkind: Cluster\n", []string{"line 1: apiVersion: expected a string, got a list"}, "apiVersion is missing"},
		{"kind mapping", "apiVersion: devcluster.dev/v1alpha1\nkind: {a: b}\n", []string{"line 2: kind: expected a string, got a mapping"}, "kind is missing"},
		{"malformed second document", head + "cpus: 2\n---\nfoo: [unclosed\n", []string{"after the first document: did not find expected"}, ""},
		{"second document", head + "---\napiVersion: x\n", []string{"line 3: a second document was found"}, ""},
		{"trailing separator is fine", head + "cpus: 2\n---\n", nil, ""},
		{"type error names a nested field", head + "registry:\n  port: [5001]\n", []string{"line 4: registry.port: expected a whole number, got a list"}, ""},
		{"type error in a block list", head + "cpus:\n  - 2\n  - 4\n", []string{"line 4: cpus: expected a string, got a list"}, ""},
		{"bool field", head + "registry:\n  enabled: sometimes\n", []string{"line 4: registry.enabled: expected true or false, got a string \"sometimes\""}, ""},
		{"top level list", "- a\n- b\n", []string{"line 1: expected a mapping with apiVersion and kind, got a list"}, ""},
		{"syntax error", head + "cpus: [2\n", []string{"line ", "did not find expected"}, ""},
		{"typo", head + "nmae: dev\n", []string{"line 3: nmae: unknown field; did you mean name?"}, ""},
		{"singular", head + "cpu: 4\n", []string{"line 3: cpu: unknown field; did you mean cpus?"}, ""},
		{"case", head + "CPUs: 4\nkubernetesversion: v1.35.0\n", []string{"line 3: CPUs: unknown field; did you mean cpus?",
			"line 4: kubernetesversion: unknown field; did you mean kubernetesVersion?"}, ""},
		{"nested typo", head + "registry:\n  prot: 5001\n", []string{"line 4: registry.prot: unknown field; did you mean port?"}, ""},
		{"list item typo", head + "portMappings:\n  - containerport: 80\n", []string{"line 4: portMappings[0].containerport: unknown field; did you mean containerPort?"}, ""},
		{"another level", head + "port: 5001\nsamples: false\n", []string{"line 3: port: unknown field; did you mean registry.port?",
			"line 4: samples: unknown field; did you mean workloads.samples?"}, ""},
		{"top level one deeper", head + "registry:\n  name: dev\n", []string{"line 4: registry.name: unknown field; did you mean the top-level name?"}, ""},
		{"nothing close", head + "zebra: 1\n", []string{"line 3: zebra: unknown field"}, "did you mean"},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode("devcluster.yaml", []byte(tc.doc))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode succeeded, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%s", w, err)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("error blames %q:\n%s", tc.notWant, err)
			}
			if problem.KindOf(err) != problem.Config {
				t.Errorf("kind = %v, want a configuration error (exit 2)", problem.KindOf(err))
			}
		})
	}
}

func TestReadLimitedCapsAndCancels(t *testing.T) {
	t.Parallel()
	// /dev/zero-like: never ends.
	_, err := ReadLimited(context.Background(), zeroReader{}, "/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "larger than 1024 KiB") {
		t.Errorf("endless input: %v", err)
	}
	// A pipe nobody writes to: cancellation returns at once.
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	if _, err := ReadLimited(ctx, r, "stdin"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled read took %s", d)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// registry.clusterAddress ends up in file paths on every node: only an IP
// address or a DNS name is accepted, never shell metacharacters.
func TestClusterAddressIsAnIPOrADNSName(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"192.168.49.1", "10.0.2.2", "fd00::1", "host.minikube.internal", "registry", "a-b.example"} {
		if err := ValidHost(a); err != nil {
			t.Errorf("ValidHost(%q) = %v", a, err)
		}
	}
	for _, a := range []string{";reboot", ">x", "$(id)", "`id`", "a\nb", "a b", "-x", "192.168.49.1:5000", "a..b", "A_B", "", "x;y", "a/b", "'q'"} {
		if err := ValidHost(a); err == nil {
			t.Errorf("ValidHost(%q) accepted it", a)
		}
		file := File{APIVersion: APIVersion, Kind: KindCluster, Registry: RegistryFile{ClusterAddress: a}}
		if a == "" {
			continue // empty means the default, auto
		}
		if _, err := Complete(&Source{File: file}, Overrides{}); err == nil || !strings.Contains(err.Error(), "registry.clusterAddress") {
			t.Errorf("Complete with clusterAddress %q: %v", a, err)
		}
	}
}

// The sample's base image given as a bare path is refused with the form to
// use (docker-archive:, oci:), as is a malformed reference: both before
// anything runs, with their line.
func TestSampleBaseNamesAnImageOrAPrefixedPath(t *testing.T) {
	t.Parallel()
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nworkloads:\n  sampleBase: "
	for base, want := range map[string]string{
		"docker.io/library/nginx:stable": "",
		"oci:./layout":                   "",
		"docker-archive:base.tar":        "",
		"./base.tar":                     `line 4: workloads.sampleBase: "./base.tar" is a path: write docker-archive:./base.tar`,
		"base.tar.gz":                    `is a path`,
		"Not:A:Ref":                      `line 4: workloads.sampleBase: invalid image reference "Not:A:Ref"`,
	} {
		src, err := Decode("s.yaml", []byte(head+base+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Complete(src, Overrides{BaseDir: t.TempDir()})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", base, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", base, err, want)
		}
	}
}

// --registry, --lb and --samples turn on what the file turns off; with
// their --no- counterparts they are a contradiction.
func TestCompleteTurnsOnWhatTheFileTurnsOff(t *testing.T) {
	t.Parallel()
	src, err := Decode("devcluster.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nregistry: {enabled: false}\nloadBalancer: {enabled: false}\nworkloads: {samples: false}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Complete(src, Overrides{Registry: true, LoadBalancer: true, Samples: true})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Registry.Enabled || !got.LoadBalancer.Enabled || !got.Workloads.Samples {
		t.Errorf("registry %v, lb %v, samples %v; want all on", got.Registry.Enabled, got.LoadBalancer.Enabled, got.Workloads.Samples)
	}
	if got, err = Complete(src, Overrides{}); err != nil || got.Registry.Enabled || got.LoadBalancer.Enabled || got.Workloads.Samples {
		t.Errorf("without the flags: %+v, %v", got, err)
	}
	_, err = Complete(src, Overrides{Registry: true, NoRegistry: true, LoadBalancer: true, NoLoadBalancer: true})
	for _, want := range []string{"--registry and --no-registry contradict", "--lb and --no-lb contradict"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}
