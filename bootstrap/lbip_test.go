package bootstrap

import (
	"context"
	"errors"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/provider"
)

// ipProvider answers IP only; every other method of the embedded nil
// interface would panic, which proves they are not called.
type ipProvider struct {
	provider.Provider
	ip    string
	err   error
	asked []string
}

func (p *ipProvider) IP(_ context.Context, name string) (string, error) {
	p.asked = append(p.asked, name)
	return p.ip, p.err
}

// The rest of provider.Networked: the IP choice never calls them.
func (p *ipProvider) Network(*provider.Cluster) provider.Network { panic("Network called") }
func (p *ipProvider) PlannedHostAddress(provider.Spec) string    { panic("PlannedHostAddress called") }

// up, lb and status choose the LoadBalancer IP one way: the configured IP,
// else the cluster's node IP, else (when they may) the provider's answer.
func TestLoadBalancerIP(t *testing.T) {
	t.Parallel()
	refused := errors.New("minikube ip: exit status 80")
	for _, tc := range []struct {
		name       string
		configured string
		nodeIP     string
		ask        bool
		answer     string
		answerErr  error
		want       string
		wantErr    error
		wantAsked  bool
	}{
		{name: "configured wins", configured: "10.0.0.5", nodeIP: "192.168.49.2", ask: true, answer: "192.168.49.9", want: "10.0.0.5"},
		{name: "the node IP next", nodeIP: "192.168.49.2", ask: true, answer: "192.168.49.9", want: "192.168.49.2"},
		{name: "the provider when the cluster has none", ask: true, answer: "172.18.0.2", want: "172.18.0.2", wantAsked: true},
		{name: "the provider's failure", ask: true, answerErr: refused, wantErr: refused, wantAsked: true},
		{name: "status does not ask", ask: false, answer: "172.18.0.2", want: ""},
		{name: "none at all", ask: true, want: "", wantAsked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &ipProvider{ip: tc.answer, err: tc.answerErr}
			cfg := &config.Config{Name: "dev"}
			cfg.LoadBalancer.IP = tc.configured
			got, err := loadBalancerIP(context.Background(), p, cfg, &provider.Cluster{Name: "dev", IP: tc.nodeIP}, tc.ask)
			if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("loadBalancerIP = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if asked := len(p.asked) > 0; asked != tc.wantAsked || (asked && p.asked[0] != "dev") {
				t.Errorf("provider asked %v, want asked %v for dev", p.asked, tc.wantAsked)
			}
		})
	}
}
