package materialize

import (
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// This file holds $dateToParts and $dateFromParts: a date as its calendar
// (or ISO 8601 week) parts in a timezone, and back.

var (
	datePartsNatural = []string{"year", "month", "day", "hour", "minute", "second", "millisecond"}
	datePartsISO     = []string{"isoWeekYear", "isoWeek", "isoDayOfWeek", "hour", "minute", "second", "millisecond"}
)

func parseExprDateToParts(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	a, err := namedArgs(name, arg, []string{"date", "timezone", "iso8601"}, 40520, 40524)
	if err != nil {
		return nil, err
	}
	if a["date"].Type == 0 {
		return nil, errLocation(40522, "Missing 'date' parameter to %s", name)
	}
	nodes, err := ps.parsePresent(a, "date", "timezone", "iso8601")
	if err != nil {
		return nil, err
	}
	date, tz, iso := nodes[0], nodes[1], nodes[2]
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		isoWeeks := false
		if iso != nil {
			v, err := iso.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			b, ok := v.BooleanOK()
			if !ok {
				return bson.RawValue{}, errLocation(40521, "iso8601 must evaluate to a bool, found %s", exprTypeName(v))
			}
			isoWeeks = b
		}
		t, ok, err := evalDate(c, name, date, tz)
		if err != nil || !ok {
			return valNull(), err
		}
		keys, vals := datePartsNatural, []int{t.Year(), int(t.Month()), t.Day()}
		if isoWeeks {
			y, w := t.ISOWeek()
			keys, vals = datePartsISO, []int{y, w, (int(t.Weekday())+6)%7 + 1}
		}
		vals = append(vals, t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
		idx, doc := bsoncore.AppendDocumentStart(nil)
		for i, k := range keys {
			doc = bsoncore.AppendInt32Element(doc, k, int32(vals[i]))
		}
		doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
		return bson.RawValue{Type: bsontype.EmbeddedDocument, Value: doc}, nil
	}), nil
}

func parseExprDateFromParts(ps *exprParser, name string, arg bson.RawValue) (exprNode, error) {
	allowed := []string{"year", "month", "day", "isoWeekYear", "isoWeek", "isoDayOfWeek",
		"hour", "minute", "second", "millisecond", "timezone"}
	a, err := namedArgs(name, arg, allowed, 40518, 40519)
	if err != nil {
		return nil, err
	}
	natural := a["year"].Type != 0 || a["month"].Type != 0 || a["day"].Type != 0
	isoWeeks := a["isoWeekYear"].Type != 0 || a["isoWeek"].Type != 0 || a["isoDayOfWeek"].Type != 0
	switch {
	case natural && isoWeeks:
		return nil, errLocation(40489, "%s does not allow mixing natural dates with ISO dates", name)
	case a["year"].Type == 0 && a["isoWeekYear"].Type == 0:
		return nil, errLocation(40516, "%s requires either 'year' or 'isoWeekYear' to be present", name)
	}
	keys := datePartsNatural
	if isoWeeks {
		keys = datePartsISO
	}
	nodes, err := ps.parsePresent(a, append(slices.Clip(keys), "timezone")...)
	if err != nil {
		return nil, err
	}
	nodes, tz := nodes[:len(keys)], nodes[len(keys)]
	// Defaults: the first day of the first month (or ISO week), midnight.
	defaults := []int64{0, 1, 1, 0, 0, 0, 0}
	return funcExpr(func(c *exprContext) (bson.RawValue, error) {
		parts := make([]int64, len(keys))
		for i, n := range nodes {
			if n == nil {
				parts[i] = defaults[i]
				continue
			}
			v, err := n.eval(c)
			if err != nil {
				return bson.RawValue{}, err
			}
			if nullish(v) {
				return valNull(), nil
			}
			x, ok := wholeNumber(v)
			if !ok {
				return bson.RawValue{}, errLocation(40515, "'%s' must evaluate to an integer, found %s with value %s", keys[i], exprTypeName(v), aggValueString(v))
			}
			if i == 0 {
				if x < 1 || x > 9999 {
					return bson.RawValue{}, errLocation(40523, "'%s' must evaluate to an integer in the range 1 to 9999, found %d", keys[i], x)
				}
			} else if x < -32768 || x > 32767 {
				return bson.RawValue{}, errLocation(31034, "'%s' must evaluate to a value in the range [-32768, 32767]; value %d is not in range", keys[i], x)
			}
			parts[i] = x
		}
		loc, null, err := evalTimezone(c, tz)
		if err != nil {
			return bson.RawValue{}, err
		}
		if null {
			return valNull(), nil
		}
		if loc == nil {
			loc = time.UTC
		}
		// time.Date carries out-of-range parts over (month 14 is February
		// of the next year), as the server does.
		clock := func(y int, m time.Month, d int) time.Time {
			return time.Date(y, m, d, int(parts[3]), int(parts[4]), int(parts[5]), int(parts[6])*int(time.Millisecond), loc)
		}
		var t time.Time
		if isoWeeks {
			// ISO week 1 holds January 4th; its Monday starts the year.
			jan4 := time.Date(int(parts[0]), time.January, 4, 0, 0, 0, 0, loc)
			monday := 4 - (int(jan4.Weekday())+6)%7
			t = clock(int(parts[0]), time.January, monday+int(parts[1]-1)*7+int(parts[2]-1))
		} else {
			t = clock(int(parts[0]), time.Month(parts[1]), int(parts[2]))
		}
		return valDate(t.UnixMilli()), nil
	}), nil
}

// evalTimezone evaluates an optional timezone argument: nil loc when there
// is none, null when it is null or missing.
func evalTimezone(c *exprContext, tz exprNode) (loc *time.Location, null bool, err error) {
	if tz == nil {
		return nil, false, nil
	}
	tv, err := tz.eval(c)
	if err != nil || nullish(tv) {
		return nil, err == nil, err
	}
	s, ok := tv.StringValueOK()
	if !ok {
		return nil, false, errLocation(40517, "timezone must evaluate to a string, found %s", exprTypeName(tv))
	}
	loc, err = parseTimezone(s)
	return loc, false, err
}
