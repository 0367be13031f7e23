// Package ready holds what the programs that run beacon's parts as child processes (the
// bench and the fault-injection suite) need to start them: a free port, a check that a part
// answers, a poll with a deadline, the repository root, the end of a part's log and a
// process's children; and a POST to a part's HTTP interface (ClickHouse's, for queries).
package ready

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// HTTP checks that a GET of u answers 200.
func HTTP(u string) func() error {
	c := &http.Client{Timeout: time.Second}
	return func() error {
		resp, err := c.Get(u)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return nil
	}
}

// TCP checks that addr accepts a connection.
func TCP(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
}

// Free checks that addr can be listened on: nothing holds it any more (a killed part whose
// process is still being torn down does).
func Free(addr string) func() error {
	return func() error {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
		}
		return err
	}
}

// Wait polls ok every 50 ms until it returns nil, or gone (when not nil) returns an error
// (the process being waited for has exited: no use waiting longer), or timeout passes; then
// it returns the last error of ok, or gone's.
func Wait(timeout time.Duration, ok, gone func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ok()
		if err == nil {
			return nil
		}
		if gone != nil {
			if gerr := gone(); gerr != nil {
				return gerr
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
}

// RepoRoot finds the directory holding go.mod at or above the working directory.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("cannot find go.mod above the working directory; run from the repository")
		}
	}
}

// Tail returns the last n lines of the file at path (a part's log, for an error message);
// empty when it cannot be read.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Children lists the direct children of the process pid, from /proc (Linux).
func Children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// Post sends body to u and returns the answer of a 200; any other status is an error with
// the status and the answer (ClickHouse's HTTP interface puts its exception there).
func Post(ctx context.Context, u string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}
