package loadbalancer

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestSyncOnceAssignsAndRecordsEvents(t *testing.T) {
	t.Parallel()
	lb := svc(corev1.ServiceTypeLoadBalancer, 80)
	ssh := svc(corev1.ServiceTypeLoadBalancer, 22)
	ssh.Name = "ssh"
	plain := svc(corev1.ServiceTypeClusterIP, 80)
	plain.Name = "internal"
	cs := fake.NewClientset(lb, ssh, plain)
	c := New(cs, ip, t.Logf)
	res, err := c.SyncOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Name != "ssh" || res[0].Action != "refuse" || res[1].Name != "web" || res[1].Action != "assign" || res[1].IP != ip {
		t.Fatalf("results = %+v", res)
	}
	got, err := cs.CoreV1().Services("default").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ing := got.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != ip {
		t.Errorf("ingress = %+v", ing)
	}
	events, _ := cs.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
	reasons := map[string]string{}
	for _, e := range events.Items {
		reasons[e.InvolvedObject.Name] = e.Reason
	}
	if reasons["web"] != "IPAssigned" || reasons["ssh"] != "PortRefused" {
		t.Errorf("events = %v", reasons)
	}
}

func TestRunAssignsServicesCreatedLater(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	c := New(cs, ip, t.Logf)
	synced := make(chan string, 10)
	c.OnSync = func(key string, d Decision, err error) {
		if d.Action == Assign && err == nil {
			synced <- key
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 2) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond)
	if _, err := cs.CoreV1().Services("apps").Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: "apps"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 8080}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case key := <-synced:
		if key != "apps/late" {
			t.Errorf("synced %s", key)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a Service created after start was not assigned")
	}
}
