package loadbalancer

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestScheme(t *testing.T) {
	t.Parallel()
	h2 := "kubernetes.io/h2c"
	https := "HTTPS"
	cases := []struct {
		p    corev1.ServicePort
		want string
	}{
		{corev1.ServicePort{Port: 80}, "http"},
		{corev1.ServicePort{Port: 443}, "https"},
		{corev1.ServicePort{Port: 8443}, "https"},
		{corev1.ServicePort{Port: 9000, Name: "https"}, "https"},
		{corev1.ServicePort{Port: 9000, Name: "web-https"}, "https"},
		{corev1.ServicePort{Port: 9000, Name: "httpsish"}, "http"},
		{corev1.ServicePort{Port: 9000, AppProtocol: &https}, "https"},
		{corev1.ServicePort{Port: 9000, AppProtocol: &h2}, "http"},
	}
	for _, c := range cases {
		if got := Scheme(c.p); got != c.want {
			t.Errorf("Scheme(%+v) = %s, want %s", c.p, got, c.want)
		}
	}
}

func TestHostURLsRoundTrip(t *testing.T) {
	t.Parallel()
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{}}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "web", Port: 80}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "tls", Port: 443},
	}}}
	urls := NodeHostURLs(s, "192.168.49.2")
	if want := []string{"http://192.168.49.2:80", "https://192.168.49.2:443"}; !slices.Equal(urls, want) {
		t.Fatalf("NodeHostURLs = %v, want %v", urls, want)
	}
	s.Annotations[HostURLAnnotation] = JoinHostURLs(urls)
	if got := HostURLs(s); !slices.Equal(got, urls) {
		t.Fatalf("HostURLs = %v, want %v", got, urls)
	}
	s.Annotations[HostURLAnnotation] = " http://127.0.0.1:8080 , garbage,ftp://127.0.0.1:21,http://u:p@127.0.0.1:1,http://127.0.0.1:0,http://[::1]:8443/"
	if got, want := HostURLs(s), []string{"http://127.0.0.1:8080", "http://[::1]:8443/"}; !slices.Equal(got, want) {
		t.Fatalf("HostURLs = %v, want %v", got, want)
	}
	if HostURLs(nil) != nil || HostURLs(&corev1.Service{}) != nil {
		t.Fatal("no annotation must give nil")
	}
	if got := HostURL(corev1.ServicePort{Port: 443}, "::1", 8443); got != "https://[::1]:8443" {
		t.Fatalf("HostURL for IPv6 = %s", got)
	}
}

func TestWantsForward(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"true": true, "True": true, " true ": true, "false": false, "": false, "yes": false} {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{ForwardAnnotation: v}}}
		if got := WantsForward(s); got != want {
			t.Errorf("WantsForward(%q) = %v, want %v", v, got, want)
		}
	}
	if WantsForward(&corev1.Service{}) || WantsForward(nil) {
		t.Error("no annotation must not ask for a forward")
	}
}
