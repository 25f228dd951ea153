package pgfunc

import (
	"math"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

// Expectations are PostgreSQL 15's (SELECT justify_…(interval '…')).
func TestJustify(t *testing.T) {
	const h = 3600000000
	iv := func(m, d int32, us int64) duckdb.Interval { return duckdb.Interval{Months: m, Days: d, Micros: us} }
	for _, tc := range []struct {
		name string
		f    func(duckdb.Interval) (duckdb.Interval, error)
		in   duckdb.Interval
		want duckdb.Interval
	}{
		{"justify_days('35 days')", JustifyDays, iv(0, 35, 0), iv(1, 5, 0)},
		{"justify_days('-35 days')", JustifyDays, iv(0, -35, 0), iv(-1, -5, 0)},
		{"justify_days('1 mon -1 day')", JustifyDays, iv(1, -1, 0), iv(0, 29, 0)},
		{"justify_hours('27 hours')", JustifyHours, iv(0, 0, 27*h), iv(0, 1, 3*h)},
		{"justify_hours('1 day -1 hour')", JustifyHours, iv(0, 1, -h), iv(0, 0, 23*h)},
		{"justify_hours('-27 hours')", JustifyHours, iv(0, 0, -27*h), iv(0, -1, -3*h)},
		{"justify_interval('1 mon -1 hour')", JustifyInterval, iv(1, 0, -h), iv(0, 29, 23*h)},
		{"justify_interval('-1 mon 1 day 25 hours')", JustifyInterval, iv(-1, 1, 25*h), iv(0, -27, -23*h)},
		{"justify_interval('65 days 49 hours')", JustifyInterval, iv(0, 65, 49*h), iv(2, 7, h)},
	} {
		if got, err := tc.f(tc.in); err != nil || got != tc.want {
			t.Errorf("%s = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestJustifyRange(t *testing.T) {
	iv := duckdb.Interval{Days: math.MaxInt32, Micros: 86400000000}
	if _, err := JustifyHours(iv); err == nil {
		t.Error("justify_hours('2147483647 days 24 hours'): no error (PostgreSQL: interval out of range)")
	}
}
