//go:build !linux

package bench

import "errors"

// splitCPUs: see pin_linux.go; elsewhere the bench does not pin.
func splitCPUs() (prefix []string, split string, restore func(), err error) {
	return nil, "", nil, errors.New("CPU affinity is only set on Linux")
}
