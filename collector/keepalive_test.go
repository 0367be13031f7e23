package collector

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
)

// A keep-alive connection left idle longer than the header timeout, but within the idle
// timeout, still serves its next request: the header timeout runs from the request's
// first byte, not from the end of the previous request.
func TestKeepAliveIdlePastHeaderTimeout(t *testing.T) {
	c := startCollector(t, Config{HeaderTimeout: 300 * time.Millisecond, IdleTimeout: 10 * time.Second})
	conn, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	get := func(n int) {
		t.Helper()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", n, resp.StatusCode)
		}
	}
	get(1)
	time.Sleep(time.Second) // the idleness being tested, not a wait for anything
	get(2)
}
