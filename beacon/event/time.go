package event

// The time columns travel as text (so ClickHouse can read the message as JSONEachRow): the
// collector writes them with AppendTime, the ingest reads them with ParseTime.

// TimeCache remembers the date text of the last two days formatted: a batch's times fall on
// one or two days, and the calendar arithmetic (civilFromDays) is most of the formatting cost;
// the time of day is a few divisions. Two days, because a batch interleaves server and client
// times, which a skewed client clock can put on different days.
type TimeCache struct {
	day  [2]int64
	date [2][11]byte // "YYYY-MM-DD "
	bad  [2]bool     // the day's year is outside 0..9999: AppendTime writes t0Text
	ok   [2]bool
	next int
}

// Append is AppendTime through the cache.
func (c *TimeCache) Append(dst []byte, ms int64) []byte {
	secs := floorDiv(ms, 1000)
	frac := int(ms - secs*1000)
	days := floorDiv(secs, 86400)
	sod := int(secs - days*86400)
	i := 0
	switch {
	case c.ok[0] && c.day[0] == days:
	case c.ok[1] && c.day[1] == days:
		i = 1
	default:
		i = c.next
		c.next ^= 1
		y, mo, d := civilFromDays(days)
		c.bad[i] = y < 0 || y > 9999
		if !c.bad[i] {
			c.date[i] = [11]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
				byte('0' + mo/10), byte('0' + mo%10), '-', byte('0' + d/10), byte('0' + d%10), ' '}
		}
		c.day[i], c.ok[i] = days, true
	}
	if c.bad[i] {
		return append(dst, t0Text...)
	}
	h, mi, s := sod/3600, sod/60%60, sod%60
	dst = append(dst, c.date[i][:]...)
	f1, f2 := frac/10, frac%10
	return append(dst, twoDigits[2*h], twoDigits[2*h+1], ':', twoDigits[2*mi], twoDigits[2*mi+1], ':', twoDigits[2*s], twoDigits[2*s+1], '.',
		twoDigits[2*f1], twoDigits[2*f1+1], byte('0'+f2))
}

// twoDigits holds "00" to "99": the two digits of n at 2n and 2n+1.
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// AppendTime writes ms since the epoch as "YYYY-MM-DD hh:mm:ss.sss" in UTC: the time columns
// of the message (what ClickHouse's JSONEachRow reads into DateTime64(3) by default).
func AppendTime(dst []byte, ms int64) []byte {
	secs := floorDiv(ms, 1000)
	frac := int(ms - secs*1000)
	days := floorDiv(secs, 86400)
	sod := int(secs - days*86400)
	y, mo, d := civilFromDays(days)
	h, mi, s := sod/3600, sod/60%60, sod%60
	if y < 0 || y > 9999 {
		return append(dst, t0Text...)
	}
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), ' ',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// t0Text stands in for times outside years 0..9999 (the validator keeps events in 2000..2100).
const t0Text = "1970-01-01 00:00:00.000"

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// algorithm): integer arithmetic only, cheaper than time.Time's calendar for the hot path.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// ParseTime parses "YYYY-MM-DD hh:mm:ss[.fff]" in UTC (a 'T' separator and a trailing 'Z'
// are accepted too) into unix milliseconds. Digits past milliseconds are truncated, as
// DateTime64(3) does. Years outside DateTime64's 1900..2299 are refused.
func ParseTime(b []byte) (int64, bool) {
	if len(b) > 0 && b[len(b)-1] == 'Z' {
		b = b[:len(b)-1]
	}
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	digits := func(s []byte) (int, bool) {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	s, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < 1900 || y > 2299 || mo < 1 || mo > 12 ||
		d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	ms := 0
	if len(b) > 19 {
		if b[19] != '.' || len(b) == 20 {
			return 0, false
		}
		frac := b[20:]
		for i, c := range frac {
			if c < '0' || c > '9' {
				return 0, false
			}
			if i < 3 {
				ms = ms*10 + int(c-'0')
			}
		}
		for i := len(frac); i < 3; i++ {
			ms *= 10
		}
	}
	days := daysFromCivil(y, mo, d)
	return ((days*24+int64(h))*60+int64(mi))*60*1000 + int64(s)*1000 + int64(ms), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days since 1970-01-01 in the proleptic Gregorian calendar.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
