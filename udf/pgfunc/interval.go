package pgfunc

import (
	"database/sql/driver"
	"errors"
	"math"

	"github.com/duckdb/duckdb-go/v2"
)

// errIntervalRange is PostgreSQL's error for a result beyond interval's
// fields (SQLSTATE 22008, which engine/pgerr maps from "out of range").
var errIntervalRange = errors.New("interval out of range")

// fits reports whether months and days fit interval's 32-bit fields.
func fits(months, days int64) bool {
	return months >= math.MinInt32 && months <= math.MaxInt32 && days >= math.MinInt32 && days <= math.MaxInt32
}

// PostgreSQL's interval arithmetic constants (datatype/timestamp.h).
const (
	usecsPerDay  = 86400000000
	daysPerMonth = 30
)

// sameSign moves one unit (worth per of the smaller field) between a
// larger and a smaller field of opposite signs, so that both have one
// sign: 1 day -1 hour is 23 hours.
func sameSign(larger, smaller, per int64) (int64, int64) {
	switch {
	case larger > 0 && smaller < 0:
		return larger - 1, smaller + per
	case larger < 0 && smaller > 0:
		return larger + 1, smaller - per
	}
	return larger, smaller
}

// JustifyHours is justify_hours: whole days of the time part move to days,
// and days and time end up with one sign.
func JustifyHours(iv duckdb.Interval) (duckdb.Interval, error) {
	days, micros := sameSign(int64(iv.Days)+iv.Micros/usecsPerDay, iv.Micros%usecsPerDay, usecsPerDay)
	if !fits(0, days) {
		return duckdb.Interval{}, errIntervalRange
	}
	return duckdb.Interval{Months: iv.Months, Days: int32(days), Micros: micros}, nil
}

// JustifyDays is justify_days: whole 30-day periods move to months, and
// months and days end up with one sign.
func JustifyDays(iv duckdb.Interval) (duckdb.Interval, error) {
	months, days := sameSign(int64(iv.Months)+int64(iv.Days)/daysPerMonth, int64(iv.Days)%daysPerMonth, daysPerMonth)
	if !fits(months, days) {
		return duckdb.Interval{}, errIntervalRange
	}
	return duckdb.Interval{Months: int32(months), Days: int32(days), Micros: iv.Micros}, nil
}

// JustifyInterval is justify_interval, as PostgreSQL 15's interval_justify_interval.
func JustifyInterval(iv duckdb.Interval) (duckdb.Interval, error) {
	months, days, micros := int64(iv.Months), int64(iv.Days), iv.Micros
	// Pre-justify days where it might prevent overflow.
	if days > 0 && micros > 0 || days < 0 && micros < 0 {
		months += days / daysPerMonth
		days %= daysPerMonth
	}
	days += micros / usecsPerDay
	micros %= usecsPerDay
	months += days / daysPerMonth
	days %= daysPerMonth
	switch {
	case months > 0 && (days < 0 || days == 0 && micros < 0):
		days += daysPerMonth
		months--
	case months < 0 && (days > 0 || days == 0 && micros > 0):
		days -= daysPerMonth
		months++
	}
	days, micros = sameSign(days, micros, usecsPerDay)
	if !fits(months, days) {
		return duckdb.Interval{}, errIntervalRange
	}
	return duckdb.Interval{Months: int32(months), Days: int32(days), Micros: micros}, nil
}

// justifyFunc is hop_justify_hours/days/interval(interval).
type justifyFunc struct {
	f func(duckdb.Interval) (duckdb.Interval, error)
}

func (justifyFunc) Config() duckdb.ScalarFuncConfig {
	t, err := duckdb.NewTypeInfo(duckdb.TYPE_INTERVAL)
	if err != nil {
		panic(err) // a primitive type always has a TypeInfo
	}
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{t}, ResultTypeInfo: t}
}

func (j justifyFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		iv, ok := args[0].(duckdb.Interval)
		if !ok {
			return nil, nil
		}
		return j.f(iv)
	}}
}
