package materialize

import (
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// This file holds $dateFromString: a date parsed from a string, with the
// format specifiers $dateToString writes (%Y %m %d %H %M %S %L %j %G %V %u
// %z %Z %b %B %%), or, without a format, an ISO 8601 date and time.

func parseExprDateFromString(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	keys := []string{"dateString", "format", "timezone", "onError", "onNull"}
	a, err := namedArgs(name, arg, keys, 40541, 40540)
	if err != nil {
		return nil, err
	}
	if a["dateString"].Type == 0 {
		return nil, errLocation(40542, "Missing 'dateString' parameter to %s", name)
	}
	nodes, err := ps.parsePresent(a, keys...)
	if err != nil {
		return nil, err
	}
	dateString, format, tz, onError, onNull := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		loc, null, err := evalTimezone(c, tz)
		if err != nil {
			return bson.RawValue{}, err
		}
		if null {
			return valNull(), nil
		}
		var layout string
		if format != nil {
			fv, err := format.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(fv) {
				return valNull(), nil
			}
			s, ok := fv.StringValueOK()
			if !ok {
				return bson.RawValue{}, errLocation(40684, "%s requires that 'format' be a string, found: %s with value %s", name, exprTypeName(fv), aggValueString(fv))
			}
			if err := checkDateFormat(s); err != nil {
				return bson.RawValue{}, err
			}
			layout = s
		}
		v, err := dateString.eval(c)
		if err != nil {
			return bson.RawValue{}, err
		}
		if nullish(v) {
			if onNull != nil {
				return onNull.eval(c)
			}
			return valNull(), nil
		}
		fail := func(err error) (bson.RawValue, error) {
			if onError != nil {
				return onError.eval(c)
			}
			return bson.RawValue{}, err
		}
		s, ok := v.StringValueOK()
		if !ok {
			return fail(errLocation(241, "%s requires that 'dateString' be a string, found: %s with value %s", name, exprTypeName(v), aggValueString(v)))
		}
		var t time.Time
		if layout != "" {
			t, err = parseDateFormat(s, layout, loc)
		} else {
			t, err = parseDateISO(s, loc)
		}
		if err != nil {
			return fail(err)
		}
		return valDate(t.UnixMilli()), nil
	}), nil
}

// dateParseError is the server's ConversionFailure for a string that does
// not parse.
func dateParseError(s, why string) error {
	return errLocation(241, "Error parsing date string '%s'; %s", s, why)
}

// errZoneTwice refuses a string with its own offset and a timezone argument.
func errZoneTwice(s string) error {
	return errLocation(40554, "you cannot pass in a date/time string with time zone information ('%s') together with a timezone argument", s)
}

// checkDateFormat checks a format's specifiers before any string is parsed.
func checkDateFormat(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 >= len(f) {
			return errLocation(18535, "Unmatched '%%' at end of format string")
		}
		i++
		if !strings.ContainsRune("YmdHMSLjGVuzZbB%", rune(f[i])) {
			return errLocation(18536, "Invalid format character '%%%c' in format string", f[i])
		}
	}
	return nil
}

// dateFields collects what a string gives; unset fields keep defaults.
type dateFields struct {
	year, month, day, hour, minute, second, milli int
	yday                                          int  // %j, 0 if none
	isoYear, isoWeek, isoDay                      int  // %G %V %u, 0 if none
	offset                                        *int // seconds east of UTC, nil if none
}

func (d *dateFields) time(s string, loc *time.Location) (time.Time, error) {
	if d.offset != nil {
		if loc != nil {
			return time.Time{}, errZoneTwice(s)
		}
		loc = time.FixedZone("", *d.offset)
	}
	if loc == nil {
		loc = time.UTC
	}
	ns := d.milli * int(time.Millisecond)
	switch {
	case d.isoYear != 0:
		jan4 := time.Date(d.isoYear, time.January, 4, 0, 0, 0, 0, loc)
		monday := 4 - (int(jan4.Weekday())+6)%7
		week, day := max(d.isoWeek, 1), max(d.isoDay, 1)
		return time.Date(d.isoYear, time.January, monday+(week-1)*7+day-1, d.hour, d.minute, d.second, ns, loc), nil
	case d.yday != 0:
		return time.Date(d.year, time.January, d.yday, d.hour, d.minute, d.second, ns, loc), nil
	}
	if d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysIn(time.Month(d.month), d.year) {
		return time.Time{}, dateParseError(s, "The parsed date was invalid")
	}
	if d.hour > 23 || d.minute > 59 || d.second > 59 {
		return time.Time{}, dateParseError(s, "The parsed time was invalid")
	}
	return time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.second, ns, loc), nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDateFormat parses s by a $dateToString-style format.
func parseDateFormat(s, f string, loc *time.Location) (time.Time, error) {
	d := dateFields{year: 1970, month: 1, day: 1}
	p := 0
	num := func(maxDigits int, what string) (int, error) {
		n, start := 0, p
		for p < len(s) && p-start < maxDigits && s[p] >= '0' && s[p] <= '9' {
			n = n*10 + int(s[p]-'0')
			p++
		}
		if p == start {
			return 0, dateParseError(s, "Unexpected data found, expected "+what)
		}
		return n, nil
	}
	var err error
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			if p >= len(s) || s[p] != f[i] {
				return time.Time{}, dateParseError(s, fmt.Sprintf("The separation symbol ([;:/.,-]) could not be found at position %d", p))
			}
			p++
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			d.year, err = num(4, "a four digit year")
		case 'm':
			d.month, err = num(2, "a two digit month")
		case 'd':
			d.day, err = num(2, "a two digit day")
		case 'H':
			d.hour, err = num(2, "a two digit hour")
		case 'M':
			d.minute, err = num(2, "a two digit minute")
		case 'S':
			d.second, err = num(2, "a two digit second")
		case 'L':
			d.milli, err = num(3, "a three digit millisecond")
		case 'j':
			d.yday, err = num(3, "a three digit day-of-year")
		case 'G':
			d.isoYear, err = num(4, "a four digit ISO year")
		case 'V':
			d.isoWeek, err = num(2, "a two digit ISO week")
		case 'u':
			d.isoDay, err = num(1, "a one digit ISO day of week")
		case 'z':
			var off int
			if off, p, err = parseOffset(s, p, false); err == nil {
				d.offset = &off
			}
		case 'Z':
			sign := 1
			if p < len(s) && (s[p] == '+' || s[p] == '-') {
				if s[p] == '-' {
					sign = -1
				}
				p++
			}
			var m int
			if m, err = num(4, "a minutes offset"); err == nil {
				off := sign * m * 60
				d.offset = &off
			}
		case 'b', 'B':
			d.month, p, err = parseMonthName(s, p, f[i] == 'B')
		case '%':
			if p >= len(s) || s[p] != '%' {
				err = dateParseError(s, "'%' expected")
			}
			p++
		}
		if err != nil {
			return time.Time{}, err
		}
	}
	if p != len(s) {
		return time.Time{}, dateParseError(s, "Trailing data")
	}
	return d.time(s, loc)
}

// parseOffset reads ±hh, ±hhmm or ±hh:mm at s[p:] (Z too, when z is true).
func parseOffset(s string, p int, z bool) (int, int, error) {
	if z && p < len(s) && s[p] == 'Z' {
		return 0, p + 1, nil
	}
	if p >= len(s) || (s[p] != '+' && s[p] != '-') {
		return 0, p, dateParseError(s, "Unexpected data found, expected a time zone offset")
	}
	sign := 1
	if s[p] == '-' {
		sign = -1
	}
	p++
	digits := func(n int) (int, bool) {
		if p+n > len(s) {
			return 0, false
		}
		v := 0
		for _, ch := range s[p : p+n] {
			if ch < '0' || ch > '9' {
				return 0, false
			}
			v = v*10 + int(ch-'0')
		}
		p += n
		return v, true
	}
	h, ok := digits(2)
	if !ok || h > 23 {
		return 0, p, dateParseError(s, "Unexpected data found, expected a time zone offset")
	}
	m := 0
	if p < len(s) && s[p] == ':' {
		p++
		if m, ok = digits(2); !ok {
			return 0, p, dateParseError(s, "Unexpected data found, expected a time zone offset")
		}
	} else if p+2 <= len(s) && s[p] >= '0' && s[p] <= '9' {
		if m, ok = digits(2); !ok {
			return 0, p, dateParseError(s, "Unexpected data found, expected a time zone offset")
		}
	}
	if m > 59 {
		return 0, p, dateParseError(s, "Unexpected data found, expected a time zone offset")
	}
	return sign * (h*3600 + m*60), p, nil
}

// parseMonthName reads an English month name (full, or its first three
// letters) at s[p:], case-insensitively.
func parseMonthName(s string, p int, full bool) (int, int, error) {
	for m := time.January; m <= time.December; m++ {
		name := m.String()
		if !full {
			name = name[:3]
		}
		if len(s)-p >= len(name) && strings.EqualFold(s[p:p+len(name)], name) {
			return int(m), p + len(name), nil
		}
	}
	return 0, p, dateParseError(s, "A textual month could not be found")
}

// parseDateISO parses the ISO 8601 forms a format-less $dateFromString
// takes: YYYY-MM-DD, then optionally T (or a space) and hh:mm[:ss[.fff]],
// then optionally Z or an offset (±hh, ±hhmm, ±hh:mm).
func parseDateISO(s string, loc *time.Location) (time.Time, error) {
	d := dateFields{}
	p := 0
	fixed := func(n int, what string) (int, error) {
		if p+n > len(s) {
			return 0, dateParseError(s, "Unexpected data found, expected "+what)
		}
		v := 0
		for _, ch := range s[p : p+n] {
			if ch < '0' || ch > '9' {
				return 0, dateParseError(s, "Unexpected data found, expected "+what)
			}
			v = v*10 + int(ch-'0')
		}
		p += n
		return v, nil
	}
	sep := func(c byte) error {
		if p >= len(s) || s[p] != c {
			return dateParseError(s, fmt.Sprintf("The separation symbol could not be found at position %d", p))
		}
		p++
		return nil
	}
	var err error
	steps := []func() error{
		func() error { d.year, err = fixed(4, "a four digit year"); return err },
		func() error { return sep('-') },
		func() error { d.month, err = fixed(2, "a two digit month"); return err },
		func() error { return sep('-') },
		func() error { d.day, err = fixed(2, "a two digit day"); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return time.Time{}, err
		}
	}
	if p < len(s) && (s[p] == 'T' || s[p] == ' ') {
		p++
		if d.hour, err = fixed(2, "a two digit hour"); err != nil {
			return time.Time{}, err
		}
		if err := sep(':'); err != nil {
			return time.Time{}, err
		}
		if d.minute, err = fixed(2, "a two digit minute"); err != nil {
			return time.Time{}, err
		}
		if p < len(s) && s[p] == ':' {
			p++
			if d.second, err = fixed(2, "a two digit second"); err != nil {
				return time.Time{}, err
			}
			if p < len(s) && s[p] == '.' {
				p++
				start, frac := p, 0
				for p < len(s) && s[p] >= '0' && s[p] <= '9' {
					if p-start < 3 {
						frac = frac*10 + int(s[p]-'0')
					}
					p++
				}
				if p == start {
					return time.Time{}, dateParseError(s, "Unexpected data found, expected a fraction of a second")
				}
				for n := p - start; n < 3; n++ {
					frac *= 10
				}
				d.milli = frac
			}
		}
	}
	if p < len(s) {
		off, np, err := parseOffset(s, p, true)
		if err != nil {
			return time.Time{}, err
		}
		d.offset, p = &off, np
	}
	if p != len(s) {
		return time.Time{}, dateParseError(s, "Trailing data")
	}
	return d.time(s, loc)
}
