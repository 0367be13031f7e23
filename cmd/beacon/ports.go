package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// devPort is one address the dev stack will listen on, with the flag that moves it.
type devPort struct {
	what, flag, addr string
}

// checkPortsFree fails, before anything starts, when any of ports is taken, naming each
// taken port, its flag and, where /proc tells, the process holding it. Without it a
// second stack would start its ClickHouse, see the first stack's answer on the port and
// fail later with the other stack's paths in the message.
func checkPortsFree(ports []devPort) error {
	var busy []string
	for _, p := range ports {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			ln.Close()
			continue
		}
		msg := fmt.Sprintf("%s %s (%s): %v", p.what, p.addr, p.flag, err)
		if errors.Is(err, syscall.EADDRINUSE) {
			msg = fmt.Sprintf("%s %s (%s) is in use", p.what, p.addr, p.flag)
			if _, port, err := net.SplitHostPort(p.addr); err == nil {
				if n, err := strconv.Atoi(port); err == nil {
					if holder := portHolder(n); holder != "" {
						msg += " by " + holder
					}
				}
			}
		}
		busy = append(busy, msg)
	}
	if len(busy) == 0 {
		return nil
	}
	return fmt.Errorf("cannot start the dev stack:\n  %s\nstop what holds them (another `make run`?) or move the stack with the flags named", strings.Join(busy, "\n  "))
}

// portHolder names the process listening on TCP port, as "pid N (command line)", or ""
// when /proc does not tell (another user's process, or not Linux).
func portHolder(port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningInodes(f, port, inodes)
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fdDir := range procs {
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pidDir := filepath.Dir(fdDir)
				cmd, _ := os.ReadFile(filepath.Join(pidDir, "cmdline"))
				line := strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
				if len(line) > 120 {
					line = line[:120] + "..."
				}
				return fmt.Sprintf("pid %s (%s)", filepath.Base(pidDir), line)
			}
		}
	}
	return ""
}

// listeningInodes adds the socket inodes of file's (a /proc/net/tcp table) listeners on port.
func listeningInodes(file string, port int, into map[string]bool) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
			continue
		}
		i := strings.LastIndexByte(fields[1], ':')
		if p, err := strconv.ParseUint(fields[1][i+1:], 16, 16); err == nil && int(p) == port {
			into[fields[9]] = true
		}
	}
}
