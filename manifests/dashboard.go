package manifests

import "strings"

// The dashboard `devcluster dashboard` installs: Headlamp, pinned.
const (
	// HeadlampVersion is the Headlamp release devcluster installs.
	HeadlampVersion = "v0.45.0"
	// HeadlampImage is that release's image, pinned by the digest of its
	// multi-platform index (the pin minikube's headlamp addon carries for
	// the same release).
	HeadlampImage = "ghcr.io/headlamp-k8s/headlamp:" + HeadlampVersion + "@sha256:db3f0e0fc58d358d41daa3fe7fc852437552c7ee873c3645470f7b86a8e0db49"

	// DashboardNamespace holds every namespaced object of the dashboard;
	// it carries the managed-by label, so that down removes it from a
	// cluster devcluster did not create.
	DashboardNamespace = "devcluster-dashboard"
	// DashboardName is the Deployment and the Service.
	DashboardName = "headlamp"
	// DashboardAdmin is the ServiceAccount whose token signs in.
	DashboardAdmin = "headlamp-admin"
	// DashboardClusterRoleBinding binds DashboardAdmin to cluster-admin.
	DashboardClusterRoleBinding = "devcluster-dashboard-admin"

	// DashboardImageVariable is replaced by the image reference.
	DashboardImageVariable = "${HEADLAMP_IMAGE}"
)

// Dashboard returns the dashboard's manifests with image filled in
// (HeadlampImage unless dashboard.image says otherwise).
func Dashboard(image string) []Sample {
	b, _ := files.ReadFile("dashboard/headlamp.yaml")
	return []Sample{{Name: "dashboard/headlamp.yaml", YAML: []byte(strings.ReplaceAll(string(b), DashboardImageVariable, image))}}
}
