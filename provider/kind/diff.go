package kind

import (
	"fmt"
	"slices"
	"strings"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/provider"
)

// Diff implements provider.Comparer: the recorded configuration against
// the one asked for, whether the cluster runs or not. A cluster without a
// record was not created by devcluster, and its settings cannot be known.
func (k *Kind) Diff(want provider.Spec, have *provider.Cluster) []provider.Difference {
	if have.Record == nil {
		if have.State == provider.Absent {
			return nil
		}
		return []provider.Difference{{Field: "origin", Existing: "a kind cluster devcluster did not create", Desired: "one created by devcluster",
			Note: "use provider existing with context " + Context(want.Name) + " to work with it as it is"}}
	}
	var d []provider.Difference
	if w := NodeImage(want.KubernetesVersion); have.NodeImage != w {
		d = append(d, provider.Difference{Field: "kubernetesVersion (node image)", Existing: orDefault(have.NodeImage), Desired: orDefault(w)})
	}
	if have.Workers != want.Workers {
		d = append(d, provider.Difference{Field: "workers", Existing: fmt.Sprint(have.Workers), Desired: fmt.Sprint(want.Workers)})
	}
	if h, w := mappings(have.PortMappings), mappings(want.PortMappings); h != w {
		d = append(d, provider.Difference{Field: "portMappings", Existing: h, Desired: w})
	}
	return d
}

// mappings lists port mappings in a fixed order, "none" for none.
func mappings(ms []config.PortMapping) string {
	if len(ms) == 0 {
		return "none"
	}
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b config.PortMapping) int { return strings.Compare(a.String(), b.String()) })
	return config.JoinPortMappings(sorted)
}
