// Package useragent classifies the sender of a request from its User-Agent: device class,
// browser and OS families (what events keep instead of the header, by default), and the bot
// or mail-scanner reason that keeps robots out of the answers. Classify remembers recent
// answers for the whole process.
package useragent

import "bytes"

// Client is what the collector learns about the sender of a request, once per request.
type Client struct {
	Device    string // desktop | mobile | tablet | bot | unknown
	BotReason string // "" or ua:<token>, scanner:<name>, prefetch
	Browser   string // browser family: Chrome, Edge, Firefox, Safari, Opera, Samsung Internet, other; "" without a User-Agent
	OS        string // OS family: Windows, macOS, iOS, Android, ChromeOS, Linux, other; "" without a User-Agent
}

// uaRule maps a lowercase User-Agent substring to a bot reason. Specific names come first so
// the reason says who it was; generic words catch the rest.
type uaRule struct{ sub, reason string }

var scannerRules = [...]uaRule{
	{"barracuda", "scanner:barracuda"},
	{"mimecast", "scanner:mimecast"},
	{"proofpoint", "scanner:proofpoint"},
	{"messagelabs", "scanner:symantec"},
	{"symantec", "scanner:symantec"},
	{"trendmicro", "scanner:trendmicro"},
	{"forcepoint", "scanner:forcepoint"},
	{"ironport", "scanner:cisco"},
	{"safelinks", "scanner:microsoft"},
	{"ms-office", "scanner:microsoft"},
	{"microsoft office", "scanner:microsoft"},
	{"googleimageproxy", "scanner:gmail-proxy"},
	{"yahoomailproxy", "scanner:yahoo-proxy"},
}

var botRules = [...]uaRule{
	{"googlebot", "ua:googlebot"},
	{"bingbot", "ua:bingbot"},
	{"yandex", "ua:yandex"},
	{"baiduspider", "ua:baidu"},
	{"duckduckbot", "ua:duckduckbot"},
	{"applebot", "ua:applebot"},
	{"facebookexternalhit", "ua:facebook"},
	{"slackbot", "ua:slack"},
	{"linkedinbot", "ua:linkedin"},
	{"twitterbot", "ua:twitter"},
	{"headlesschrome", "ua:headless"},
	{"phantomjs", "ua:headless"},
	{"lighthouse", "ua:lighthouse"},
	{"curl/", "ua:curl"},
	{"wget", "ua:wget"},
	{"python-", "ua:python"},
	{"go-http-client", "ua:go"},
	{"java/", "ua:java"},
	{"okhttp", "ua:okhttp"},
	{"node-fetch", "ua:node"},
	{"axios", "ua:node"},
	{"bot", "ua:bot"},
	{"crawl", "ua:crawler"},
	{"spider", "ua:spider"},
	{"preview", "ua:preview"},
}

// MaxLen bounds how much of a User-Agent is classified (and stored).
const MaxLen = 512

// Parse sets c.Device and c.BotReason from the User-Agent and whether the request is a
// prefetch (Purpose/Sec-Purpose/X-Moz headers), reading at most MaxLen bytes. lower is
// scratch for the lowercased UA, returned grown. Classify is the same with a cache.
func Parse(c *Client, ua string, prefetch bool, lower []byte) []byte {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen]
	}
	lower = lower[:0]
	for i := 0; i < len(ua); i++ {
		ch := ua[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower = append(lower, ch)
	}
	c.Device, c.BotReason, c.Browser, c.OS = "unknown", "", "", ""
	if len(lower) == 0 {
		c.Device, c.BotReason = "bot", "ua:empty"
		return lower
	}
	has := func(s string) bool { return bytes.Contains(lower, []byte(s)) }
	c.Browser, c.OS = browserFamily(has), osFamily(has)
	for _, r := range scannerRules {
		if bytes.Contains(lower, []byte(r.sub)) {
			c.Device, c.BotReason = "bot", r.reason
			return lower
		}
	}
	for _, r := range botRules {
		if bytes.Contains(lower, []byte(r.sub)) {
			c.Device, c.BotReason = "bot", r.reason
			return lower
		}
	}
	if prefetch {
		c.BotReason = "prefetch"
	}
	switch {
	case has("ipad") || has("tablet") || (has("android") && !has("mobile")):
		c.Device = "tablet"
	case has("mobi") || has("iphone") || has("android"):
		c.Device = "mobile"
	case has("windows") || has("macintosh") || has("x11") || has("cros") || has("linux"):
		c.Device = "desktop"
	}
	return lower
}

// browserFamily names the browser of a lowercased User-Agent. Order matters: Edge and Opera
// also say Chrome, Chrome also says Safari.
func browserFamily(has func(string) bool) string {
	switch {
	case has("edg/") || has("edge/") || has("edga/") || has("edgios/"):
		return "Edge"
	case has("opr/") || has("opera"):
		return "Opera"
	case has("samsungbrowser"):
		return "Samsung Internet"
	case has("firefox/") || has("fxios/"):
		return "Firefox"
	case has("chrome/") || has("crios/") || has("chromium/"):
		return "Chrome"
	case has("safari/"):
		return "Safari"
	}
	return "other"
}

// osFamily names the operating system of a lowercased User-Agent (iOS says "like Mac OS X",
// Android says Linux: they come first).
func osFamily(has func(string) bool) string {
	switch {
	case has("windows"):
		return "Windows"
	case has("android"):
		return "Android"
	case has("iphone") || has("ipad") || has("ipod"):
		return "iOS"
	case has("cros"):
		return "ChromeOS"
	case has("macintosh") || has("mac os x"):
		return "macOS"
	case has("linux") || has("x11"):
		return "Linux"
	}
	return "other"
}
