// Package apiserver gives the stand-ins (test-only fakes of minikube and
// docker) a client for the API server the test names in their environment:
// STANDIN_APISERVER (https URL), STANDIN_TOKEN (bearer token) and
// STANDIN_CA_FILE (its CA bundle; without it TLS is not verified).
package apiserver

import (
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Client returns a client for the test's API server, or nil when the
// environment names none (unit tests).
func Client(get func(string) string) (kubernetes.Interface, error) {
	host := get("STANDIN_APISERVER")
	if host == "" {
		return nil, nil
	}
	cfg := &rest.Config{Host: host, BearerToken: get("STANDIN_TOKEN")}
	if ca := get("STANDIN_CA_FILE"); ca != "" {
		cfg.TLSClientConfig.CAFile = ca
	} else {
		cfg.TLSClientConfig.Insecure = true
	}
	return kubernetes.NewForConfig(cfg)
}
