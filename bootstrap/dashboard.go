package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/manifests"
)

// DefaultDashboardTokenTTL is how long a sign-in token is valid, as
// `kubectl create token` mints them.
const DefaultDashboardTokenTTL = time.Hour

// MinDashboardTokenTTL is the shortest the TokenRequest API grants.
const MinDashboardTokenTTL = 10 * time.Minute

// DashboardOptions are the options of Dashboard.
type DashboardOptions struct {
	// Timeout bounds the rollout and the wait for the agent's forward
	// (workloads.timeout when 0).
	Timeout time.Duration
	// TokenTTL is the sign-in token's lifetime (DefaultDashboardTokenTTL
	// when 0).
	TokenTTL time.Duration
}

// DashboardResult is what `devcluster dashboard` reports. Token is the
// sign-in token: the command line prints it only where the README says.
type DashboardResult struct {
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	Version   string `json:"version"`
	Image     string `json:"image"`
	URL       string `json:"url"`
	// ServiceAccount signs in (namespace/name).
	ServiceAccount string    `json:"serviceAccount"`
	Token          string    `json:"token,omitempty"`
	ExpiresAt      time.Time `json:"expiresAt"`
	// Changed is true when the install wrote something.
	Changed bool `json:"changed"`
}

// tokenShape is what a ServiceAccount token is made of (a JWT: base64url
// segments and dots); anything else is not printed.
var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// Dashboard installs Headlamp into the cluster (server-side apply: a
// second run changes nothing), waits for its rollout and for the agent's
// forward of its Service, and mints a short-lived token to sign in with.
func Dashboard(ctx context.Context, deps Deps, cfg *config.Config, o DashboardOptions) (*DashboardResult, error) {
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultDashboardTokenTTL
	}
	if o.TokenTTL < MinDashboardTokenTTL {
		return nil, problem.New(problem.Usage, "", fmt.Errorf("a token valid for %s: the TokenRequest API grants %s at least", o.TokenTTL, MinDashboardTokenTTL), "")
	}
	h, err := connectHostAccess(ctx, deps, cfg, "the dashboard")
	if err != nil {
		return nil, err
	}
	res, err := dashboardOn(ctx, deps.Report, h, cfg, o)
	if res != nil {
		res.Context = h.clients.Context
	}
	return res, err
}

func dashboardOn(ctx context.Context, r Reporter, h *hostAccess, cfg *config.Config, o DashboardOptions) (*DashboardResult, error) {
	if o.Timeout <= 0 {
		o.Timeout = cfg.Workloads.Timeout
	}
	image := cfg.Dashboard.Image
	if image == "" {
		image = manifests.HeadlampImage
	}
	res := &DashboardResult{Namespace: manifests.DashboardNamespace, Version: manifests.HeadlampVersion, Image: image,
		ServiceAccount: manifests.DashboardNamespace + "/" + manifests.DashboardAdmin}
	if cfg.Dashboard.Image != "" {
		res.Version = "dashboard.image"
	}
	changed, err := installDashboard(ctx, r, h.clients, image)
	if err != nil {
		return nil, err
	}
	res.Changed = changed
	w := kube.Workload{Kind: "Deployment", Namespace: manifests.DashboardNamespace, Name: manifests.DashboardName}
	if _, err := kube.WaitForRollouts(ctx, h.clients.Kube, []kube.Workload{w}, o.Timeout, r.Progress); err != nil {
		return nil, waitProblem("waiting for the dashboard to roll out", err,
			fmt.Sprintf("see `%s -n %s describe pod -l app.kubernetes.io/name=headlamp`", kubectl(h.clients.Context), w.Namespace))
	}
	svc, err := serviceOn(ctx, r, h, cfg, ServiceOptions{Name: manifests.DashboardName, Namespace: manifests.DashboardNamespace, Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	res.URL = svc.URLs[0]
	if !onLoopback(res.URL) {
		// Anyone who may edit the Service could point the annotation
		// elsewhere; the token is cluster-admin's.
		return nil, problem.New(problem.Failed, "", fmt.Errorf("the dashboard's Service gives %s as its URL, which is not this host's loopback", res.URL),
			fmt.Sprintf("remove the annotation %s from Service %s/%s and run `devcluster dashboard` again", loadbalancer.HostURLAnnotation, manifests.DashboardNamespace, manifests.DashboardName))
	}
	r.Progress("minting a sign-in token for " + res.ServiceAccount)
	secs := int64(o.TokenTTL / time.Second)
	tr, err := h.clients.Kube.CoreV1().ServiceAccounts(manifests.DashboardNamespace).CreateToken(ctx, manifests.DashboardAdmin,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return nil, problem.New(problem.Failed, "minting a token for "+res.ServiceAccount, err,
			"check that your context may create serviceaccounts/token in "+manifests.DashboardNamespace)
	}
	if !tokenShape.MatchString(tr.Status.Token) {
		return nil, problem.New(problem.Failed, "minting a token for "+res.ServiceAccount, errors.New("the API server answered with something that is not a token"), "")
	}
	res.Token, res.ExpiresAt = tr.Status.Token, tr.Status.ExpirationTimestamp.UTC()
	return res, nil
}

// installDashboard applies the dashboard's manifests, devcluster's own
// (taken over from any other manager), with localhost:<port>/ images
// rewritten as `up` and `deploy` rewrite them; it reports whether anything
// changed.
func installDashboard(ctx context.Context, r Reporter, c *kube.Clients, image string) (bool, error) {
	var objs []kube.Object
	for _, m := range manifests.Dashboard(image) {
		o, err := kube.DecodeManifests("dashboard:"+m.Name, m.YAML)
		if err != nil {
			return false, problem.New(problem.Failed, "decoding the dashboard's manifests", err, "")
		}
		for i := range o {
			o[i].Owned = true
		}
		objs = append(objs, o...)
	}
	applier, err := applierOf(c)
	if err != nil {
		return false, err
	}
	rewrite, err := kube.ReadImageRewrite(ctx, c.Kube)
	if err != nil {
		return false, problem.New(problem.Failed, "reading "+kube.LocalRegistryHostingNamespace+"/"+kube.LocalRegistryHostingName, err, "")
	}
	before := map[string]string{}
	for _, o := range objs {
		if it, err := applier.Resolve([]kube.Object{o}, kube.ApplyOptions{ImageRewrite: rewrite}); err == nil && len(it) == 1 {
			if cur, err := applier.Get(ctx, it[0]); err == nil {
				before[o.Describe()] = cur.GetResourceVersion()
			}
		}
	}
	applied, err := applier.Apply(ctx, objs, kube.ApplyOptions{ImageRewrite: rewrite, Progress: r.Progress})
	if err != nil {
		return false, problem.New(problem.Failed, "installing the dashboard", err, "check that your context may create namespaces, ServiceAccounts, ClusterRoleBindings, Deployments and Services")
	}
	changed := false
	for _, a := range applied {
		if a.Result == nil || before[a.Describe()] != a.Result.GetResourceVersion() {
			changed = true
		}
	}
	return changed, nil
}

// onLoopback reports whether u's host is this host's loopback.
func onLoopback(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
