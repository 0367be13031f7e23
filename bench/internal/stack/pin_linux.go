//go:build linux

package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// SplitCPUs gives this process (the load generator, and the children it starts from now on,
// such as the broker) the first half of the machine's CPUs and returns the command prefix
// (taskset) that starts a child on the other half, with a description of the split and a
// function that gives this process every CPU back. On a 2-CPU machine that is CPU 0 for the
// bench and CPU 1 for the collector, whose Go runtime then runs one P. Without it the load
// generator's own work, which grows with the offered load, comes out of the collector's CPU
// in exactly the phase under test.
func SplitCPUs() (prefix []string, split string, restore func(), err error) {
	n := runtime.NumCPU()
	if n < 2 {
		return nil, "", nil, errors.New("one CPU: nothing to split")
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return nil, "", nil, fmt.Errorf("no taskset (util-linux): %w", err)
	}
	var orig, mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		return nil, "", nil, err
	}
	half := n / 2
	for c := range half {
		mine.Set(c)
	}
	if err := setProcessAffinity(&mine); err != nil {
		return nil, "", nil, err
	}
	theirs := strconv.Itoa(half)
	if n-1 > half {
		theirs += "-" + strconv.Itoa(n-1)
	}
	mineS := "0"
	if half > 1 {
		mineS += "-" + strconv.Itoa(half-1)
	}
	split = fmt.Sprintf("the collector on CPU %s (taskset), the load generator and the broker on CPU %s", theirs, mineS)
	return []string{taskset, "-c", theirs}, split, func() { _ = setProcessAffinity(&orig) }, nil
}

// setProcessAffinity sets the CPU set of every thread of this process. A thread started
// meanwhile by one not yet set inherits the old set, so the threads are set twice.
func setProcessAffinity(set *unix.CPUSet) error {
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("thread %d: %w", tid, err)
			}
		}
	}
	return nil
}
