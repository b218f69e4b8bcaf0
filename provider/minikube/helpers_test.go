package minikube

import "github.com/devcluster/devcluster/config"

func nil2cfg() *config.Config {
	c, err := config.Complete(nil, config.Overrides{})
	if err != nil {
		panic(err)
	}
	return c
}
