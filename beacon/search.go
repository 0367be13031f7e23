package beacon

// What the collector stores of a search text (WIRE.md, "Search text"). Search boxes catch
// what people paste: e-mail addresses, links with tokens, API keys. The collector never
// stores such a word: it is replaced by a marker before anything is written, and the event
// says so. The rule is simple on purpose, so a reader of the data can know what was kept.
const (
	// SearchTruncated flags a search text cut to maxQuery bytes.
	SearchTruncated = 1
	// SearchRedacted flags a search text with at least one word replaced by a marker.
	SearchRedacted = 2

	markEmail = "[email]"
	markToken = "[token]"

	// tokenMinLen is the length from which a word of letters and digits mixed, with no
	// space, is taken for a secret (an API key, a session id, a signed token, a hash).
	tokenMinLen = 20
)

// appendSearchQuery appends the stored form of q: each word (a run of bytes between ASCII
// spaces, tabs or newlines; runs of them become one space, leading and trailing ones are
// dropped) that looks like an e-mail address is replaced by "[email]", one that looks like
// a token by "[token]"; then the text is cut to maxQuery bytes at a character boundary (and
// a space left at the cut dropped). It
// reports SearchTruncated and SearchRedacted in flags.
func appendSearchQuery(dst []byte, q string) ([]byte, uint8) {
	start := len(dst)
	var flags uint8
	for i := 0; i < len(q); {
		for i < len(q) && isSpace(q[i]) {
			i++
		}
		j := i
		for j < len(q) && !isSpace(q[j]) {
			j++
		}
		if i == j {
			break
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		word := q[i:j]
		switch {
		case looksLikeEmail(word):
			dst = append(dst, markEmail...)
			flags |= SearchRedacted
		case looksLikeToken(word):
			dst = append(dst, markToken...)
			flags |= SearchRedacted
		default:
			dst = append(dst, word...)
		}
		i = j
	}
	if len(dst)-start > maxQuery {
		cut := start + maxQuery
		for cut > start && dst[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		if dst[cut-1] == ' ' {
			cut--
		}
		dst = dst[:cut]
		flags |= SearchTruncated
	}
	return dst, flags
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// looksLikeEmail: something@something.something, wherever it sits in the word
// ("<bob@x.io>", "mailto:bob@x.io" and "bob@x.io," included).
func looksLikeEmail(w string) bool {
	at := -1
	for i := 0; i < len(w); i++ {
		if w[i] == '@' {
			at = i
			break
		}
	}
	if at <= 0 {
		return false
	}
	for i := at + 2; i < len(w)-1; i++ {
		if w[i] == '.' && isWordByte(w[i+1]) {
			return true
		}
	}
	return false
}

// looksLikeToken: a run of at least tokenMinLen bytes of [A-Za-z0-9] and "-_.+/=~:%" with
// letters and digits mixed, anywhere in the word (so "key=sk_live_...," and a token after a
// no-break space count), or anything carrying a pb_t= partner token parameter.
func looksLikeToken(w string) bool {
	for i := 0; i+5 <= len(w); i++ {
		if w[i:i+5] == "pb_t=" {
			return true
		}
	}
	n, letters, digits := 0, false, false
	for i := 0; i <= len(w); i++ {
		var c byte
		if i < len(w) {
			c = w[i]
		}
		switch {
		case i == len(w):
		case c >= '0' && c <= '9':
			n, digits = n+1, true
			continue
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			n, letters = n+1, true
			continue
		case c == '-' || c == '_' || c == '.' || c == '+' || c == '/' || c == '=' || c == '~' || c == ':' || c == '%':
			n++
			continue
		}
		if n >= tokenMinLen && letters && digits {
			return true
		}
		n, letters, digits = 0, false, false
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
