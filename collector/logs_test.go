package collector

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/beaconprm/beacon/internal/testenv"
)

// With debug logging, a request the HTTP parser refuses is logged with the client's address
// cut to its /24 (what events keep) and without the request's bytes (review probe P11).
func TestDebugLogsHoldNoClientAddress(t *testing.T) {
	var logs testenv.SyncBuffer
	c := startCollector(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	conn, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr().(*net.TCPAddr)
	io.WriteString(conn, "GET /x\nA HTTP/1.1\r\nX-Forwarded-For: 198.51.100.23\r\nX-Secret: tok-12345\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.ReadAll(conn)
	conn.Close()
	eventually(t, 10*time.Second, "the connection error in the debug log", func() bool {
		return strings.Contains(logs.String(), "error when serving connection")
	})
	out := logs.String()
	out = out[strings.Index(out, "level=DEBUG"):] // the INFO line names the collector's own address
	if strings.Contains(out, local.String()) || strings.Contains(out, "127.0.0.1") || strings.Contains(out, "198.51.100.23") || strings.Contains(out, "tok-12345") {
		t.Errorf("debug log holds a full address or request bytes:\n%s", out)
	}
	if !strings.Contains(out, "127.0.0.0") {
		t.Errorf("debug log lost the address prefix:\n%s", out)
	}
}

func TestRedactLog(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := redactLog(in); got != want {
			t.Errorf("redactLog(%q) = %q, want %q", in, got, want)
		}
	}
	f(`serving "127.0.0.1:8080"<->"203.0.113.77:49004": x`, `serving "127.0.0.0:8080"<->"203.0.113.0:49004": x`)
	f(`"[2001:db8:abcd:12::1]:443" and 2001:db8:abcd:12::1 and fe80::1%eth0`, `"[2001:db8:abcd::]:443" and 2001:db8:abcd:: and fe80:0:0::`)
	f(`::ffff:192.0.2.9 at 22:35:05`, `192.0.2.0 at 22:35:05`)
	f(`bad header: buffer size=40, contents: "GET / HTTP/1.1\r\nX: 10.1.2.3"`, `bad header: buffer size=40, contents: (not logged)`)
	f(`first line of request "GET /x?pb_t=abc \"q\"\r\n": buffer`, `first line of request "(not logged)": buffer`)
}
