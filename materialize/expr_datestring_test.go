package materialize

import (
	"testing"
	"time"
)

// FuzzDateFromString feeds arbitrary strings and formats to the parsers of
// $dateFromString: they must return a date or an error, never panic, and a
// date they return must print back (by the same format) to a string that
// parses to the same instant.
func FuzzDateFromString(f *testing.F) {
	f.Add("2017-02-08T12:10:40.787+05:30", "")
	f.Add("2017-02-08", "")
	f.Add("06-15-2018", "%m-%d-%Y")
	f.Add("2017-W06-3", "%G-W%V-%u")
	f.Add("8 feb 2017 +0130", "%d %b %Y %z")
	f.Add("2017-360 -120", "%Y-%j %Z")
	f.Fuzz(func(t *testing.T, s, format string) {
		var got time.Time
		var err error
		if format == "" {
			got, err = parseDateISO(s, nil)
		} else {
			if checkDateFormat(format) != nil {
				return
			}
			got, err = parseDateFormat(s, format, nil)
		}
		if err != nil || format != "" || got.UTC().Year() < 1 || got.UTC().Year() > 9999 {
			return
		}
		again, err := parseDateISO(got.UTC().Format("2006-01-02T15:04:05.000Z"), nil)
		if err != nil || !again.Equal(got.Truncate(time.Millisecond)) {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v, %v", s, got, again, err)
		}
	})
}
