package collector

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// dialFrom opens a TCP connection to addr from a given loopback source address.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// get sends GET /healthz on c (keep-alive) and returns the status line, or "" when the
// connection was closed without an answer.
func get(t *testing.T, c net.Conn, br *bufio.Reader) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return ""
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return strings.TrimSpace(line)
	}
	for { // skip headers and the short body
		h, err := br.ReadString('\n')
		if err != nil || h == "\r\n" {
			break
		}
	}
	return strings.TrimSpace(line)
}

// One client holding idle keep-alive connections gets at most MaxConnsPerIP of them;
// the rest are refused and counted, and another client is still served.
func TestOneClientCannotTakeEveryConnection(t *testing.T) {
	probe, err := net.Dial("tcp", "127.0.0.2:1") // is 127.0.0.2 a local address here?
	if err == nil {
		probe.Close()
	} else if !errors.Is(err, os.ErrDeadlineExceeded) && !strings.Contains(err.Error(), "refused") {
		t.Skipf("127.0.0.2 is not usable as a second client address: %v", err)
	}
	c := startCollector(t, Config{MaxConcurrency: 8, MaxConnsPerIP: 3})
	var held []net.Conn
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	served := 0
	for i := 0; i < 8; i++ {
		h := dialFrom(t, "127.0.0.1", c.Addr().String())
		held = append(held, h)
		status := get(t, h, bufio.NewReader(h))
		switch {
		case strings.HasPrefix(status, "HTTP/1.1 200"):
			served++
		case strings.HasPrefix(status, "HTTP/1.1 429"), status == "":
		default:
			t.Fatalf("connection %d from the greedy client: %q", i, status)
		}
	}
	if served != 3 {
		t.Fatalf("the greedy client holds %d served connections, want 3", served)
	}
	other := dialFrom(t, "127.0.0.2", c.Addr().String())
	defer other.Close()
	if status := get(t, other, bufio.NewReader(other)); !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("another client got %q while the greedy one held its connections", status)
	}
	if got := testutil.ToFloat64(c.m.perIPRefused); got != 5 {
		t.Fatalf("beacon_connections_per_ip_refused_total = %v, want 5", got)
	}
}

// A connection that sends nothing is closed after HeaderTimeout, not ReadTimeout; a request
// whose headers arrived in time still has ReadTimeout for its body.
func TestSilentConnectionClosedAfterHeaderTimeout(t *testing.T) {
	c := startCollector(t, Config{HeaderTimeout: 300 * time.Millisecond, ReadTimeout: 30 * time.Second})
	silent, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(silent); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a silent connection is still open after 10s with a 300ms header timeout")
	}

	slow, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body := batchJSON("", okEvent)
	io.WriteString(slow, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: "+
		itoa(len(body))+"\r\n\r\n")
	time.Sleep(time.Second) // the stimulus: a body slower than the header timeout
	slow.Write(body)
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, _ := io.ReadAll(slow)
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 204")) {
		t.Fatalf("a body sent 1s after its headers: %q, want 204", answer)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
