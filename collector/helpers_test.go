package collector

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The request bodies and the bad-input corpus are the wire format's: they live with the
// beacon package.
const testdata = "../beacon/testdata/"

const testSecret = "test-secret-0123456789abcdef0123456789"

func readExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata + "example-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batchJSON builds a body: base batch fields with the given events (raw JSON).
func batchJSON(extra string, events ...string) []byte {
	s := `{"v":1,"site":"demo","sent_at":1795420800500,"visitor_id":"v1","session_id":"s1"` + extra + `,"events":[` + strings.Join(events, ",") + `]}`
	return []byte(s)
}

const okEvent = `{"type":"scroll","ts":1795420800000,"depth":10}`

var b64 = base64.RawURLEncoding

// tamper flips one bit of a token's encrypted payload (its last byte) and keeps its tag:
// what someone without the key can do.
func tamper(t testing.TB, tok string) string {
	t.Helper()
	dot := strings.IndexByte(tok, '.')
	body, err := b64.DecodeString(tok[:dot])
	if err != nil || len(body) < 20 || body[0] != 2 {
		t.Fatalf("not a v2 token: %q", tok)
	}
	body[len(body)-1] ^= 1
	return b64.EncodeToString(body) + tok[dot:]
}

func newUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// newShipperCollector is a collector with the default configuration writing to topic,
// for tests that drive its spool and shipper directly (startShipper); it does not serve.
func newShipperCollector(t *testing.T, broker, topic string) *Collector {
	t.Helper()
	dir := t.TempDir()
	c, err := New(Config{SitesFile: writeSites(t, dir), SpoolDir: filepath.Join(dir, "spool"), Brokers: []string{broker}, Topic: topic,
		ListenAddr: "127.0.0.1:0", SnippetDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ln.Close() })
	return c
}

// startShipper runs c's shipper, as Start does, and returns what stops it (as Close does)
// and closes the spool.
func startShipper(c *Collector) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.shipper.run()
	}()
	return func() {
		c.shipper.finish(time.Second)
		<-done
		c.spool.Close()
	}
}
