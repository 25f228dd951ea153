package codec

import (
	"math"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// ParseInterval reads PostgreSQL interval input: the postgres and
// postgres_verbose styles ("1 year 2 mons -3 days +04:05:06.5", "@ 1 hour
// ago", "1.5 years", "3 4:05:06"), SQL standard year-month ("1-2") and ISO
// 8601 ("P1Y2M3DT4H5M6S", "P0001-02-03T04:05:06"). DuckDB's own cast rejects
// several of these, including PostgreSQL's output format for negative parts,
// so parameters of type interval are parsed here.
func ParseInterval(s string) (duckdb.Interval, error) {
	p := intervalParser{src: s, v: strings.ToLower(trimPGSpace(s))}
	if err := p.parse(); err != nil {
		return duckdb.Interval{}, err
	}
	if p.months < math.MinInt32 || p.months > math.MaxInt32 || p.days < math.MinInt32 || p.days > math.MaxInt32 {
		return duckdb.Interval{}, pgerr.New(pgerr.DatetimeFieldOverflow, "interval field value out of range: \"%s\"", s)
	}
	return duckdb.Interval{Months: int32(p.months), Days: int32(p.days), Micros: p.us}, nil
}

type intervalParser struct {
	src, v     string
	pos        int
	months     int64
	days, us   int64
	sawAnyPart bool
}

func (p *intervalParser) bad() error {
	return pgerr.New(pgerr.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", p.src)
}

func (p *intervalParser) skipSpace() {
	for p.pos < len(p.v) && isPGSpace(p.v[p.pos]) {
		p.pos++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads [sign]digits[.digits] and returns its text.
func (p *intervalParser) number() (string, bool) {
	start := p.pos
	if p.pos < len(p.v) && (p.v[p.pos] == '+' || p.v[p.pos] == '-') {
		p.pos++
	}
	nd := 0
	for p.pos < len(p.v) && isDigit(p.v[p.pos]) {
		p.pos++
		nd++
	}
	if p.pos < len(p.v) && p.v[p.pos] == '.' {
		p.pos++
		for p.pos < len(p.v) && isDigit(p.v[p.pos]) {
			p.pos++
			nd++
		}
	}
	if nd == 0 {
		p.pos = start
		return "", false
	}
	return p.v[start:p.pos], true
}

// split returns a number's integer part and signed fraction.
func split(num string) (int64, float64, bool) {
	ip, fp, _ := strings.Cut(num, ".")
	neg := strings.HasPrefix(ip, "-")
	ip = strings.TrimLeft(ip, "+-")
	var i int64
	if ip != "" {
		var err error
		if i, err = strconv.ParseInt(ip, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	var f float64
	if fp != "" {
		var err error
		if f, err = strconv.ParseFloat("0."+fp, 64); err != nil {
			return 0, 0, false
		}
	}
	if neg {
		i, f = -i, -f
	}
	return i, f, true
}

func (p *intervalParser) parse() error {
	if p.v == "" {
		return p.bad()
	}
	if p.v[0] == 'p' {
		return p.parseISO()
	}
	if p.v[0] == '@' {
		p.pos++
	}
	ago := false
	for {
		p.skipSpace()
		if p.pos >= len(p.v) {
			break
		}
		if ago {
			return p.bad() // "ago" must come last
		}
		if strings.HasPrefix(p.v[p.pos:], "ago") {
			p.pos += 3
			ago = true
			continue
		}
		num, ok := p.number()
		if !ok {
			return p.bad()
		}
		p.sawAnyPart = true
		if p.pos < len(p.v) && p.v[p.pos] == ':' {
			if err := p.timeField(num); err != nil {
				return err
			}
			continue
		}
		if p.pos+1 < len(p.v) && p.v[p.pos] == '-' && isDigit(p.v[p.pos+1]) && !strings.Contains(num, ".") {
			// SQL standard year-month: [-]Y-M.
			p.pos++
			mon, _ := p.number()
			y, _, ok1 := split(num)
			m, _, ok2 := split(mon)
			if !ok1 || !ok2 || strings.ContainsAny(mon, ".+-") || m > 11 {
				return p.bad()
			}
			if y < 0 || strings.HasPrefix(num, "-") {
				m = -m
			}
			p.months += y*12 + m
			continue
		}
		p.skipSpace()
		ustart := p.pos
		for p.pos < len(p.v) && p.v[p.pos] >= 'a' && p.v[p.pos] <= 'z' {
			p.pos++
		}
		unit := p.v[ustart:p.pos]
		if unit == "ago" {
			p.pos = ustart
			unit = ""
		}
		if unit == "" {
			// A bare number is days when a time field follows, else seconds.
			rest := p.pos
			p.skipSpace()
			save := p.pos
			_, isNum := p.number()
			nextIsTime := isNum && p.pos < len(p.v) && p.v[p.pos] == ':'
			p.pos = save
			if !nextIsTime {
				p.pos = rest
			}
			if nextIsTime {
				unit = "day"
			} else {
				unit = "second"
			}
		}
		if err := p.apply(num, unit); err != nil {
			return err
		}
	}
	if !p.sawAnyPart {
		return p.bad()
	}
	if ago {
		p.months, p.days, p.us = -p.months, -p.days, -p.us
	}
	return nil
}

// timeField reads the rest of [-]H:MM[:SS[.frac]] whose hours are num.
func (p *intervalParser) timeField(num string) error {
	neg := strings.HasPrefix(num, "-")
	h, hf, ok := split(num)
	if !ok || hf != 0 {
		return p.bad()
	}
	if h < 0 {
		h = -h
	}
	p.pos++ // ':'
	m, ok := p.number()
	if !ok || strings.ContainsAny(m, "+-") {
		return p.bad()
	}
	mi, mf, _ := split(m)
	var us int64
	if p.pos < len(p.v) && p.v[p.pos] == ':' {
		p.pos++
		sec, ok := p.number()
		if !ok || strings.ContainsAny(sec, "+-") || mf != 0 {
			return p.bad()
		}
		si, sf, _ := split(sec)
		if mi > 59 || si > 60 {
			return p.bad()
		}
		us = si*usecsPerSec + int64(math.Round(sf*1e6))
	} else {
		// H:MM, or MM:SS.f when the minutes carry a fraction.
		if mf != 0 {
			us = h*usecsPerMin + mi*usecsPerSec + int64(math.Round(mf*1e6))
			h, mi = 0, 0
		} else if mi > 59 {
			return p.bad()
		}
	}
	us += h*usecsPerHour + mi*usecsPerMin
	if neg {
		us = -us
	}
	p.us += us
	return nil
}

// apply adds num units; fractions cascade to smaller fields as PostgreSQL
// does (years→months rounded, months→30 days, days→microseconds).
func (p *intervalParser) apply(num, unit string) error {
	i, f, ok := split(num)
	if !ok {
		return p.bad()
	}
	fracDays := func(days float64) {
		whole := math.Trunc(days)
		p.days += int64(whole)
		p.us += int64(math.Round((days - whole) * float64(usecsPerDay)))
	}
	switch unit {
	case "microsecond", "microseconds", "us", "usec", "usecs", "usecond", "useconds":
		p.us += i + int64(math.Round(f))
	case "millisecond", "milliseconds", "ms", "msec", "msecs", "msecond", "mseconds":
		p.us += i*1000 + int64(math.Round(f*1000))
	case "second", "seconds", "s", "sec", "secs":
		p.us += i*usecsPerSec + int64(math.Round(f*1e6))
	case "minute", "minutes", "m", "min", "mins":
		p.us += i*usecsPerMin + int64(math.Round(f*float64(usecsPerMin)))
	case "hour", "hours", "h", "hr", "hrs":
		p.us += i*usecsPerHour + int64(math.Round(f*float64(usecsPerHour)))
	case "day", "days", "d":
		p.days += i
		p.us += int64(math.Round(f * float64(usecsPerDay)))
	case "week", "weeks", "w":
		p.days += i * 7
		fracDays(f * 7)
	case "month", "months", "mon", "mons":
		p.months += i
		fracDays(f * 30)
	case "year", "years", "y", "yr", "yrs":
		p.months += i*12 + int64(math.Round(f*12))
	case "decade", "decades", "dec", "decs":
		p.months += i*120 + int64(math.Round(f*120))
	case "century", "centuries", "c", "cent":
		p.months += i*1200 + int64(math.Round(f*1200))
	case "millennium", "millennia", "mil", "mils":
		p.months += i*12000 + int64(math.Round(f*12000))
	default:
		return p.bad()
	}
	return nil
}

// parseISO reads ISO 8601 durations: designators (P1Y2M3W4DT5H6M7.5S) or
// the alternative format P[YYYY-MM-DD][THH:MM:SS].
func (p *intervalParser) parseISO() error {
	p.pos = 1
	if p.pos >= len(p.v) {
		return p.bad()
	}
	if d := strings.IndexAny(p.v[p.pos:], "ymwdhs"); d < 0 && strings.ContainsAny(p.v, "-:") {
		return p.parseISOAlt()
	}
	inTime := false
	for p.pos < len(p.v) {
		if p.v[p.pos] == 't' {
			inTime = true
			p.pos++
			continue
		}
		num, ok := p.number()
		if !ok || p.pos >= len(p.v) {
			return p.bad()
		}
		c := p.v[p.pos]
		p.pos++
		var unit string
		switch {
		case c == 'y' && !inTime:
			unit = "year"
		case c == 'm' && !inTime:
			unit = "month"
		case c == 'w' && !inTime:
			unit = "week"
		case c == 'd' && !inTime:
			unit = "day"
		case c == 'h' && inTime:
			unit = "hour"
		case c == 'm' && inTime:
			unit = "minute"
		case c == 's' && inTime:
			unit = "second"
		default:
			return p.bad()
		}
		if err := p.apply(num, unit); err != nil {
			return err
		}
		p.sawAnyPart = true
	}
	if !p.sawAnyPart {
		return p.bad()
	}
	return nil
}

func (p *intervalParser) parseISOAlt() error {
	rest := p.v[p.pos:]
	datePart, timePart, hasT := strings.Cut(rest, "t")
	if datePart != "" {
		f := strings.Split(datePart, "-")
		if len(f) > 3 {
			return p.bad()
		}
		units := []string{"year", "month", "day"}
		for i, x := range f {
			if x == "" || strings.ContainsAny(x, "+-") {
				return p.bad()
			}
			if err := p.apply(x, units[i]); err != nil {
				return err
			}
		}
	}
	if hasT {
		q := intervalParser{src: p.src, v: timePart}
		num, ok := q.number()
		if !ok || q.pos >= len(q.v) || q.v[q.pos] != ':' {
			return p.bad()
		}
		if err := q.timeField(num); err != nil || q.pos != len(q.v) {
			return p.bad()
		}
		p.us += q.us
	}
	return nil
}
