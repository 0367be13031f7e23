package useragent

import "testing"

// Parse names the device class and, for robots and mail scanners, who it was.
func TestParseDevices(t *testing.T) {
	ua := func(in string, prefetch bool, device, reason string) {
		t.Helper()
		var c Client
		Parse(&c, in, prefetch, nil)
		if c.Device != device || c.BotReason != reason {
			t.Errorf("ua %q: %s/%s, want %s/%s", in, c.Device, c.BotReason, device, reason)
		}
	}
	ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", false, "desktop", "")
	ua("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", false, "mobile", "")
	ua("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36", false, "mobile", "")
	ua("Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/120.0 Safari/537.36", false, "tablet", "")
	ua("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", false, "tablet", "")
	ua("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", false, "bot", "ua:googlebot")
	ua("curl/8.5.0", false, "bot", "ua:curl")
	ua("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0", false, "bot", "ua:headless")
	ua("Mozilla/5.0 Barracuda Sentinel", false, "bot", "scanner:barracuda")
	ua("", false, "bot", "ua:empty")
	ua("Mozilla/5.0 (Windows NT 10.0) Chrome/120", true, "desktop", "prefetch")
	ua("SomethingElse/1.0", false, "unknown", "")
}

// The stored User-Agent is one of a few family pairs, whatever the header holds.
func TestUserAgentFamilies(t *testing.T) {
	f := func(ua, browser, os string) {
		t.Helper()
		var c Client
		Parse(&c, ua, false, nil)
		if c.Browser != browser || c.OS != os {
			t.Errorf("%q: %q; %q, want %q; %q", ua, c.Browser, c.OS, browser, os)
		}
	}
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari", "iOS")
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1", "Chrome", "iOS")
	f("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome", "Android")
	f("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet", "Android")
	f("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Linux")
	f("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", "Safari", "macOS")
	f("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0", "Opera", "Windows")
	f("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "ChromeOS")
	f("curl/8.5.0", "other", "other")
	f("", "", "")
}
