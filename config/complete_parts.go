package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// completeRegistry checks and completes the registry: its port, addresses,
// data directory (a leading ~ is o.Home, a relative path is the file's
// directory's) and mirrors, which only an enabled registry serves.
func completeRegistry(r RegistryFile, o Overrides, add func(string, error)) Registry {
	out := Registry{Enabled: *r.Enabled, Port: r.Port, DataDir: r.DataDir}
	switch d := r.DataDir; {
	case (d == "~" || strings.HasPrefix(d, "~/")) && o.Home != "":
		out.DataDir = filepath.Join(o.Home, strings.TrimPrefix(d, "~"))
	case d != "" && !filepath.IsAbs(d) && o.BaseDir != "":
		// Relative to the file, like manifests.
		out.DataDir = filepath.Join(o.BaseDir, d)
	}
	if p := r.Port; p < 1 || p > 65535 {
		add("registry.port", fmt.Errorf("invalid port %d: use 1-65535", p))
	}
	if a := r.ClusterAddress; a != "auto" {
		if err := ValidHost(a); err != nil {
			add("registry.clusterAddress", fmt.Errorf("%w; or auto", err))
		} else {
			out.ClusterAddress = a
		}
	}
	for i, a := range r.ListenAddresses {
		if net.ParseIP(a) == nil {
			add(fmt.Sprintf("registry.listenAddresses[%d]", i), fmt.Errorf("invalid address %q: use an IP address of this host (no port)", a))
		}
	}
	out.Listen = slices.Clone(r.ListenAddresses)
	out.Mirrors, out.MirrorTTL = completeMirrors(r, add)
	if !out.Enabled {
		// The agent's registry serves them.
		out.Mirrors = nil
	}
	return out
}

// completeLoadBalancer checks and completes the LoadBalancer controller's
// settings.
func completeLoadBalancer(lb LoadBalancerFile, add func(string, error)) LoadBalancer {
	out := LoadBalancer{Enabled: *lb.Enabled, IP: lb.IP, Address: lb.Address}
	if a := lb.IP; a != "" && net.ParseIP(a) == nil {
		add("loadBalancer.ip", fmt.Errorf("invalid IP %q", a))
	}
	if a := lb.Address; strings.TrimSpace(a) != "" && !slices.Contains(LBAddresses, a) {
		add("loadBalancer.address", fmt.Errorf("unknown address %q; use %s", a, strings.Join(LBAddresses, ", ")))
	}
	if lb.Address == LBAddressLocalhost && lb.IP != "" {
		add("loadBalancer.ip", errors.New("only with loadBalancer.address node or auto: in localhost mode the Services get 127.0.0.1"))
	}
	return out
}

// completeWorkloads checks and completes the workloads: the sample's base
// image, the manifests (the file's relative to its directory, then those of
// --manifest) and the rollout timeout.
func completeWorkloads(w WorkloadsFile, o Overrides, add func(string, error)) Workloads {
	out := Workloads{Samples: *w.Samples, SampleBase: w.SampleBase}
	if err := validSampleBase(w.SampleBase, o.BaseDir); err != nil {
		add("workloads.sampleBase", err)
	}
	for i, m := range w.Manifests {
		if m == "" {
			add(fmt.Sprintf("workloads.manifests[%d]", i), fmt.Errorf("empty path"))
			continue
		}
		if !filepath.IsAbs(m) && o.BaseDir != "" {
			m = filepath.Join(o.BaseDir, m)
		}
		out.Manifests = append(out.Manifests, m)
	}
	for _, m := range o.Manifests {
		if m != "" {
			out.Manifests = append(out.Manifests, m)
		}
	}
	if d, err := time.ParseDuration(w.Timeout); err != nil || d <= 0 {
		add("workloads.timeout", fmt.Errorf("invalid duration %q: use a positive duration such as 5m", w.Timeout))
	} else {
		out.Timeout = d
	}
	return out
}

// completeInstall checks the download URLs of minikube and kind.
func completeInstall(in InstallFile, add func(string, error)) Install {
	for _, u := range []struct{ field, url string }{{"install.minikubeURL", in.MinikubeURL}, {"install.kindURL", in.KindURL}} {
		if err := ValidDownloadURL(u.url); u.url != "" && err != nil {
			add(u.field, err)
		}
	}
	return Install(in)
}

// completeDashboard checks the dashboard's image.
func completeDashboard(d DashboardFile, add func(string, error)) Dashboard {
	if err := validImage(d.Image); d.Image != "" && err != nil {
		add("dashboard.image", err)
	}
	return Dashboard(d)
}
