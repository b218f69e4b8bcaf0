package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ConfigHashAnnotation on a pod template changes when a ConfigMap the
// template mounts or reads changes, so the workload rolls out the new
// configuration — the checksum pattern of Helm charts, done for you. `up`
// and `deploy` compute it the same way, so neither undoes the other.
const ConfigHashAnnotation = "devcluster.dev/config-hash"

// ConfigMapDigest is a short digest of a ConfigMap's content (data and
// binaryData, in key order).
func ConfigMapDigest(data map[string]string, binary map[string][]byte) string {
	h := sha256.New()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, data[k])
	}
	keys = keys[:0]
	for k := range binary {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "b:%s\x00", k)
		h.Write(binary[k])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ConfigHash combines the digests of the ConfigMaps a template references
// (name → digest) into the annotation's value; "" when there are none.
func ConfigHash(digests map[string]string) string {
	if len(digests) == 0 {
		return ""
	}
	parts := make([]string, 0, len(digests))
	for n, d := range digests {
		parts = append(parts, n+"="+d)
	}
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:])[:16]
}

// ReferencedConfigMaps lists, sorted and once each, the ConfigMaps a pod
// spec mounts (volumes, projected volumes) or reads (envFrom, env
// valueFrom), in every kind of container.
func ReferencedConfigMaps(spec *corev1.PodSpec) []string {
	seen := map[string]bool{}
	add := func(n string) {
		if n != "" {
			seen[n] = true
		}
	}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			add(v.ConfigMap.Name)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					add(s.ConfigMap.Name)
				}
			}
		}
	}
	containers := append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				add(e.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				add(e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
