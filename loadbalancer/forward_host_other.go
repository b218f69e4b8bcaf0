//go:build !linux && !darwin

package loadbalancer

// privilegedBelow: no port is known to need privileges here; a refused
// bind is still moved to 8000+port.
func privilegedBelow() (int32, string) { return 0, "" }
