//go:build !linux

package stack

import "errors"

// SplitCPUs: see pin_linux.go; elsewhere the bench does not pin.
func SplitCPUs() (prefix []string, split string, restore func(), err error) {
	return nil, "", nil, errors.New("CPU affinity is only set on Linux")
}
