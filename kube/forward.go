package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// ServiceFieldManager is the field manager of the annotations `service`
// writes on a Service, not the agent's (FieldManager): the Service's
// managed fields tell a forward someone asked for with `service` from what
// the agent writes, and `down` withdraws exactly those requests.
const ServiceFieldManager = "devcluster-service"

// SetServiceAnnotation sets (value non-nil) or removes (nil) one annotation
// of the Service svc, as it was read: a strategic-merge patch of that key
// alone, with field manager ServiceFieldManager, that carries the Service's
// UID — so it never creates a Service, never lands on a Service that was
// deleted and created again since it was read, and races with no other
// writer's changes to the Service.
func SetServiceAnnotation(ctx context.Context, k kubernetes.Interface, svc *corev1.Service, key string, value *string) (*corev1.Service, error) {
	var v any
	if value != nil {
		v = *value
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": svc.UID, "annotations": map[string]any{key: v}}})
	if err != nil {
		return nil, err
	}
	out, err := k.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.StrategicMergePatchType, body, metav1.PatchOptions{FieldManager: ServiceFieldManager})
	if err != nil {
		return nil, fmt.Errorf("writing annotation %s on Service %s/%s: %w", key, svc.Namespace, svc.Name, err)
	}
	return out, nil
}

// ErrServiceDeleted is returned by WaitForService when the Service is
// deleted while it waits.
var ErrServiceDeleted = errors.New("the Service was deleted")

// WaitForService follows one Service (a watch, re-established by client-go
// when it drops) until done says it is done, done fails, the Service is
// deleted (ErrServiceDeleted), or timeout passes (ErrTimeout). It returns the
// Service as done last saw it.
func WaitForService(ctx context.Context, k kubernetes.Interface, namespace, name string, timeout time.Duration,
	done func(*corev1.Service) (bool, error)) (*corev1.Service, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := k.CoreV1().Services(namespace)
	lw := byName(fields.OneTermEqualSelector("metadata.name", name).String(),
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch)
	var last *corev1.Service
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, k), &corev1.Service{}, nil, func(ev watch.Event) (bool, error) {
		svc, ok := ev.Object.(*corev1.Service)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, ErrServiceDeleted
		}
		last = svc
		return done(svc)
	})
	switch {
	case err == nil:
		return last, nil
	case parent.Err() != nil:
		return last, parent.Err()
	case errors.Is(err, ErrServiceDeleted):
		return last, err
	case ctx.Err() != nil:
		// The wait's own deadline, however the watch reported it.
		return last, fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
	return last, err
}
