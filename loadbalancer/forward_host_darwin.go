package loadbalancer

// privilegedBelow: macOS lets only root bind ports below 1024 on a
// specific address such as 127.0.0.1.
func privilegedBelow() (int32, string) {
	if euid() == 0 {
		return 0, ""
	}
	return 1024, "macOS lets only root bind ports below 1024 on 127.0.0.1"
}
