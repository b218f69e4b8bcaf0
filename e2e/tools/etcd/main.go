// Command etcd runs the etcd server from its Go module, so the end-to-end
// tiers need no downloaded release binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
