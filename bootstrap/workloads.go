package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/devcluster/devcluster/image"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
	"github.com/devcluster/devcluster/registry"
)

// buildSample builds the sample image (base + site content, reproducible)
// and pushes it to the local registry; an unchanged image is not pushed.
func buildSample(ctx context.Context, s *upState) (string, error) {
	r := s.registry
	if r == nil || s.agent == nil || len(s.agent.Listen) == 0 {
		return "", errors.New("the sample needs the local registry")
	}
	base, err := image.LoadBase(ctx, s.cfg.Workloads.SampleBase, append([]string{r.Host, r.ClusterHost}, s.agent.Listen...)...)
	if err != nil {
		return "", problem.New(problem.Failed, "loading the sample's base image", err,
			"set workloads.sampleBase to an OCI layout (oci:/path), a docker-archive (docker-archive:/path.tar) or an image in the local registry, or disable samples with --no-samples")
	}
	img, err := image.AddFiles(base, manifests.SiteFiles())
	if err != nil {
		return "", problem.New(problem.Failed, "building the sample image", err, "")
	}
	digest, err := img.Digest()
	if err != nil {
		return "", problem.New(problem.Failed, "building the sample image", err, "")
	}
	tag := "sha-" + digest.Hex[:12]
	pushHost := s.agent.Listen[0]
	repoTag := manifests.SampleWebRepository + ":" + tag
	s.sampleImage = r.Host + "/" + repoTag
	if registry.Has(ctx, pushHost, repoTag, digest) {
		return s.sampleImage + " (up to date)", nil
	}
	if _, err := registry.PushImage(ctx, img, pushHost, repoTag); err != nil {
		return "", problem.New(problem.Failed, "pushing the sample image", err, "check the agent with `devcluster status`")
	}
	s.did("sample image pushed")
	return s.sampleImage, nil
}

// applyWorkloads applies the samples and the configured manifests with
// server-side apply, rewriting localhost:<port>/ images to the address the
// cluster pulls from (imageRewrite).
func applyWorkloads(ctx context.Context, s *upState) (string, error) {
	var objs []kube.Object
	if s.sampleImage != "" {
		for _, smp := range manifests.Samples(s.sampleImage) {
			o, err := kube.DecodeManifests("sample:"+smp.Name, smp.YAML)
			if err != nil {
				return "", problem.New(problem.Failed, "decoding the samples", err, "")
			}
			for i := range o {
				o[i].Owned = true
			}
			objs = append(objs, o...)
		}
	}
	if len(s.cfg.Workloads.Manifests) > 0 {
		o, err := kube.LoadManifests(s.cfg.Workloads.Manifests)
		if err != nil {
			return "", problem.New(problem.Config, "reading workloads.manifests", err, "fix the files named above; nothing was applied")
		}
		objs = append(objs, o...)
	}
	applier, err := applierOf(s.clients)
	if err != nil {
		return "", err
	}
	rewrite, err := imageRewrite(ctx, s)
	if err != nil {
		return "", err
	}
	applied, err := applier.Apply(ctx, objs, kube.ApplyOptions{ImageRewrite: rewrite, Progress: s.deps.Report.Progress})
	if err != nil {
		return "", problem.New(problem.Failed, "applying workloads", err, "fix the manifest named above and run `devcluster up` again")
	}
	s.workloads = nil
	for _, a := range applied {
		if kube.RolloutKinds[a.Obj.GetKind()] {
			s.workloads = append(s.workloads, kube.Workload{Kind: a.Obj.GetKind(), Namespace: a.Obj.GetNamespace(), Name: a.Obj.GetName()})
		}
	}
	return fmt.Sprintf("%d objects, %d workloads", len(applied), len(s.workloads)), nil
}

// imageRewrite is the rewrite `deploy` uses too: the cluster's KEP-1755
// ConfigMap's, which the registry step wrote. Where another tool manages
// that ConfigMap (provider existing) and it does not cover devcluster's own
// registry, the sample's images still go to devcluster's.
func imageRewrite(ctx context.Context, s *upState) (manifests.ImageRewrite, error) {
	rw, err := kube.ReadImageRewrite(ctx, s.clients.Kube)
	if err != nil {
		return rw, problem.New(problem.Failed, "reading "+kube.LocalRegistryHostingNamespace+"/"+kube.LocalRegistryHostingName, err, "")
	}
	if r := s.registry; r != nil && !rw.Covers(r.Host) {
		rw = rw.And(manifests.RegistryRewrite(r.Host, r.ClusterHost))
	}
	return rw, nil
}

// waitForWorkloads waits for every applied workload to roll out, failing
// fast with the failing pod's reason.
func waitForWorkloads(ctx context.Context, s *upState) (string, error) {
	if len(s.workloads) == 0 {
		return "nothing to wait for", nil
	}
	states, err := kube.WaitForRollouts(ctx, s.clients.Kube, s.workloads, s.cfg.Workloads.Timeout, s.deps.Report.Progress)
	s.rollouts = states
	if err != nil {
		return "", rolloutProblem("waiting for workloads to roll out", s.cluster.KubeContext, err, "")
	}
	ready := 0
	for _, st := range states {
		if st.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d of %d rolled out", ready, len(states)), nil
}
