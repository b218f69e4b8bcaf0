//go:build !linux

package porthold

// holder: only Linux shows sockets' processes without another program
// (lsof on macOS).
func holder(int) string { return "" }
