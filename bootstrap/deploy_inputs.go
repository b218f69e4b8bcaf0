package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/kube"
)

// deployInputs are a deploy's inputs, read and checked before the cluster
// is contacted.
type deployInputs struct {
	workloads  []kube.Workload     // named, once each
	configMaps []*corev1.ConfigMap // from the files
	images     []imageFlag
	manifests  []kube.Object
}

// imageFlag is one --image CONTAINER=REF.
type imageFlag struct{ flag, container, ref string }

// readInputs checks every input that needs no cluster — workload names,
// ConfigMap files, image references, manifests — and reports every problem
// at once, naming the flag and the file, before anything is sent anywhere.
func readInputs(ctx context.Context, s *deployState) (string, error) {
	var problems []string
	if len(s.o.Workloads) == 0 {
		problems = append(problems, "no workload given: name one or more as KIND/NAME, for example deployment/web")
	}
	seen := map[kube.Workload]bool{}
	for _, ref := range s.o.Workloads {
		w, err := kube.ParseWorkload(ref, "")
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !seen[w] {
			seen[w] = true
			s.in.workloads = append(s.in.workloads, w)
		}
	}
	names := map[string]bool{}
	for _, c := range s.o.ConfigMaps {
		if names[c.Name] {
			problems = append(problems, fmt.Sprintf("--configmap %s: given twice", c.Name))
			continue
		}
		names[c.Name] = true
		cm, err := kube.ConfigMapFromFiles(c.Name, "", c.Paths)
		if err != nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				problems = append(problems, "--configmap "+c.Name+": "+l)
			}
			continue
		}
		s.in.configMaps = append(s.in.configMaps, cm)
	}
	for _, img := range s.o.Images {
		c, ref, err := parseImageFlag(img)
		if err != nil {
			problems = append(problems, "--image "+img+": "+err.Error())
			continue
		}
		s.in.images = append(s.in.images, imageFlag{flag: img, container: c, ref: ref})
	}
	if len(s.o.Manifests) > 0 {
		objs, err := kube.LoadManifests(s.o.Manifests)
		if err != nil {
			problems = append(problems, "--manifest: "+err.Error())
		}
		s.in.manifests = objs
	}
	if len(problems) > 0 {
		return "", problem.New(problem.Usage, "", &problem.List{Subject: "deploy", Problems: problems}, "nothing was sent to the cluster; fix the inputs above")
	}
	return fmt.Sprintf("%d workload(s), %d ConfigMap(s), %d image(s), %d manifest object(s)",
		len(s.in.workloads), len(s.in.configMaps), len(s.in.images), len(s.in.manifests)), nil
}

// parseImageFlag reads CONTAINER=REF.
func parseImageFlag(f string) (string, string, error) {
	c, ref, ok := strings.Cut(f, "=")
	if !ok || c == "" || ref == "" {
		return "", "", errors.New("use CONTAINER=IMAGE (or *=IMAGE for every container)")
	}
	if _, err := name.ParseReference(ref, name.StrictValidation); err != nil {
		if _, err2 := name.ParseReference(ref); err2 != nil {
			return "", "", fmt.Errorf("invalid image reference %q: %v", ref, err2)
		}
	}
	return c, ref, nil
}

// connect makes the clients and checks that the API server answers; the
// namespace (the flag's, else the context's, else default) goes into the
// inputs.
func connect(ctx context.Context, s *deployState) (string, error) {
	c, err := connectCluster(ctx, s.deps, s.o.Context, fromFlags, answering)
	if err != nil {
		return "", err
	}
	s.clients = c
	s.namespace = s.o.Namespace
	if s.namespace == "" {
		s.namespace = c.Namespace
	}
	if s.namespace == "" {
		s.namespace = "default"
	}
	for i := range s.in.workloads {
		s.in.workloads[i].Namespace = s.namespace
	}
	for _, cm := range s.in.configMaps {
		cm.Namespace = s.namespace
	}
	return fmt.Sprintf("context %s, namespace %s", text.OrDash(c.Context), s.namespace), nil
}
