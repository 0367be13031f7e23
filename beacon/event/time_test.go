package event

import (
	"testing"
	"time"
)

func TestAppendTime(t *testing.T) {
	tm := func(ms int64, want string) {
		t.Helper()
		if got := string(AppendTime(nil, ms)); got != want {
			t.Errorf("time(%d) = %q, want %q", ms, got, want)
		}
	}
	tm(0, "1970-01-01 00:00:00.000")
	tm(1795420800500, time.UnixMilli(1795420800500).UTC().Format("2006-01-02 15:04:05.000"))
	tm(946684800007, "2000-01-01 00:00:00.007")
	var tc TimeCache
	for ms := int64(-86400_000 * 400); ms < 4102444800000+86400_000*400; ms += 86399_937 {
		want := time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
		if got := string(AppendTime(nil, ms)); got != want {
			t.Fatalf("time(%d) = %q, want %q", ms, got, want)
		}
		// The cache, on a new day each time and on the day before (both entries in use).
		for _, m := range []int64{ms, ms - 86400_000 + 1234, ms} {
			if got, want := string(tc.Append(nil, m)), string(AppendTime(nil, m)); got != want {
				t.Fatalf("cached time(%d) = %q, want %q", m, got, want)
			}
		}
	}
	// Outside years 0..9999 both write t0Text.
	for _, ms := range []int64{-62167219200001, 253402300800000, -62167219200001} {
		if got, want := string(tc.Append(nil, ms)), string(AppendTime(nil, ms)); got != want || got != t0Text {
			t.Fatalf("cached time(%d) = %q, AppendTime %q, want %q", ms, got, want, t0Text)
		}
	}
	for _, ms := range []int64{1795420800500, 1795420800999, 1795420801000, 1795420800001, 1795420799999, 946684800007, 1795420800500, -1} {
		want := time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
		if got := string(tc.Append(nil, ms)); got != want {
			t.Errorf("cached time(%d) = %q, want %q", ms, got, want)
		}
	}

}

// What the collector writes, the ingest reads back to the millisecond.
func TestTimeRoundTrip(t *testing.T) {
	for ms := int64(-2208988800000); ms < 10413792000000; ms += 86399_937 * 7 {
		got, ok := ParseTime(AppendTime(nil, ms))
		if !ok || got != ms {
			t.Fatalf("ParseTime(AppendTime(%d)) = %d, %v", ms, got, ok)
		}
	}
	f := func(in string, want int64, ok bool) {
		t.Helper()
		if got, gotOK := ParseTime([]byte(in)); gotOK != ok || ok && got != want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, %v", in, got, gotOK, want, ok)
		}
	}
	at := time.Date(2026, 11, 23, 17, 40, 0, 0, time.UTC).UnixMilli()
	f("2026-11-23T17:40:00.5Z", at+500, true)
	f("2026-11-23 17:40:00.123456", at+123, true)
	f("2026-02-29 00:00:00", 0, false)
	f("1899-12-31 23:59:59", 0, false)
	f("2026-11-23 17:40:00.", 0, false)
}
