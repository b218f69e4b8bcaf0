package manifests

import "testing"

func TestImageRewrite(t *testing.T) {
	t.Parallel()
	minikube := RegistryRewrite("localhost:5001", "192.168.49.1:5001")
	kind := RegistryRewrite("localhost:5001", "kind-registry:5000")
	for _, c := range []struct {
		r        ImageRewrite
		in, want string
	}{
		{minikube, "localhost:5001/app:1", "192.168.49.1:5001/app:1"},
		{minikube, "127.0.0.1:5001/team/app@sha256:abc", "192.168.49.1:5001/team/app@sha256:abc"},
		{minikube, "localhost:50011/app:1", "localhost:50011/app:1"},
		{minikube, "localhost:5002/app:1", "localhost:5002/app:1"},
		{minikube, "docker.io/library/nginx:1", "docker.io/library/nginx:1"},
		{minikube, "localhost/app:1", "localhost/app:1"},
		{kind, "localhost:5001/app:1", "kind-registry:5000/app:1"},
		{RegistryRewrite("localhost:5001", "localhost:5001"), "localhost:5001/app:1", "localhost:5001/app:1"},
		{RegistryRewrite("", "192.168.49.1:5001"), "localhost:5001/app:1", "localhost:5001/app:1"},
		{ImageRewrite{}, "localhost:5001/app:1", "localhost:5001/app:1"},
		{RegistryRewrite("registry.local:5000", "10.0.0.1:5000"), "registry.local:5000/app:1", "10.0.0.1:5000/app:1"},
		{RegistryRewrite("registry.local:5000", "10.0.0.1:5000"), "127.0.0.1:5000/app:1", "127.0.0.1:5000/app:1"},
		{RegistryRewrite("localhost:5002", "10.0.0.2:5002").And(minikube), "localhost:5001/app:1", "192.168.49.1:5001/app:1"},
	} {
		if got := c.r.Image(c.in); got != c.want {
			t.Errorf("%s: %s → %s, want %s", c.r, c.in, got, c.want)
		}
	}
	if !minikube.Covers("localhost:5001") || minikube.Covers("localhost:5002") || (ImageRewrite{}).Covers("localhost:5001") {
		t.Error("Covers")
	}
}
