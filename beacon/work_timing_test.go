package beacon

import (
	"bytes"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beaconprm/beacon/beacon/site"
)

// cpuTime is the process's user+system CPU time: on a shared machine events per CPU second
// is steadier than events per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports events/s (wall) and events/cpu-s.
func reportRate(b *testing.B, events int, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N*events)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkProcess measures the hot path (decode, validate, enrich, encode) on the example
// batch; events/s is reported per core (run with -cpu 1).
func BenchmarkProcess(b *testing.B) {
	sites := testSites(b)
	body := readExample(b)
	var w Work
	in := exampleInput(body)
	res := w.Process(sites, in)
	if res.Accepted != 8 {
		b.Fatalf("%+v", res)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		w.Process(sites, in)
	}
	reportRate(b, 8, cpu0)
}

// BenchmarkProcessCompact is the example batch as the snippet sends it (JSON.stringify: no
// whitespace).
func BenchmarkProcessCompact(b *testing.B) {
	sites := testSites(b)
	var buf bytes.Buffer
	if err := json.Compact(&buf, readExample(b)); err != nil {
		b.Fatal(err)
	}
	body := buf.Bytes()
	var w Work
	in := exampleInput(body)
	if res := w.Process(sites, in); res.Accepted != 8 {
		b.Fatalf("%+v", res)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		w.Process(sites, in)
	}
	reportRate(b, 8, cpu0)
}

// BenchmarkProcessWithToken is BenchmarkProcess's body with a partner token added: the
// difference is token verification (one AES-GCM open of a v2 token per batch).
func BenchmarkProcessWithToken(b *testing.B) {
	sites := testSites(b)
	tok, err := sites.Mint(site.Claims{Tenant: "demo", Partner: "acme", User: "jane@acme.example", Campaign: "q4"})
	if err != nil {
		b.Fatal(err)
	}
	if !strings.HasPrefix(tok, "A") { // a v2 token's first byte is 2

		b.Fatalf("not a v2 token: %q", tok)
	}
	body := withToken(b, readExample(b), tok)
	var w Work
	in := exampleInput(body)
	if res := w.Process(sites, in); res.Accepted != 8 || res.Attribution != site.AttrToken {
		b.Fatalf("%+v", res)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		w.Process(sites, in)
	}
	reportRate(b, 8, cpu0)
}

// BenchmarkDecodeOnly is the decoder's share of BenchmarkProcess.
func BenchmarkDecodeOnly(b *testing.B) {
	body := readExample(b)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, p := d.Decode(body, DefaultMaxEvents); p.Reason != ReasonNone {
			b.Fatal(p.Error())
		}
	}
	reportRate(b, 8, cpu0)
}

// withToken returns the example batch with its empty "token" set to tok.
func withToken(tb testing.TB, body []byte, tok string) []byte {
	tb.Helper()
	out := bytes.Replace(body, []byte(`"token": ""`), []byte(`"token": "`+tok+`"`), 1)
	if bytes.Equal(out, body) {
		tb.Fatal(`the example batch has no empty "token"`)
	}
	return out
}
