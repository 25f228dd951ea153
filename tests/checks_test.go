package tests

import (
	"bufio"
	"sort"
	"strings"
	"testing"
)

// assertChecks reads the "PASS name" / "FAIL name" lines a client check
// program prints and fails the test for every failed check, except those
// listed in pending: behaviour hopsql does not have yet, named with the
// reason and tracked in the issue. A pending check that passes fails the
// test too, so the list cannot outlive the gap it describes. The same
// program must have passed every check on PostgreSQL 15 first.
func assertChecks(t *testing.T, program, out string, pending map[string]string) {
	t.Helper()
	results := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && (f[0] == "PASS" || f[0] == "FAIL") {
			results[f[1]] = f[0]
		}
	}
	if len(results) == 0 {
		t.Fatalf("%s printed no check results:\n%s", program, out)
	}
	var names []string
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		why, isPending := pending[n]
		switch {
		case results[n] == "FAIL" && !isPending:
			t.Errorf("%s: check %s failed on hopsql", program, n)
		case results[n] == "FAIL":
			t.Logf("%s: check %s fails as expected (pending: %s)", program, n, why)
		case isPending:
			t.Errorf("%s: check %s now passes: remove it from the pending list", program, n)
		}
	}
	for n := range pending {
		if _, ran := results[n]; !ran {
			t.Errorf("%s: pending check %s did not run", program, n)
		}
	}
	if t.Failed() {
		t.Logf("%s output:\n%s", program, out)
	}
}
