package loadbalancer

import "github.com/devcluster/devcluster/internal/porthold"

// portHolder names the process that holds a loopback port.
func portHolder(port int32) string { return porthold.Holder(int(port)) }
