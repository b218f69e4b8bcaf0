package loadbalancer

import (
	"os"

	"github.com/devcluster/devcluster/internal/porthold"
)

func euid() int { return os.Geteuid() }

// portHolder names the process that holds a loopback port.
func portHolder(port int32) string { return porthold.Holder(int(port)) }
