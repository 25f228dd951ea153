package engine

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// The declared numeric is the type unconstrained numeric is stored as.
func TestDeclaredNumericMatches(t *testing.T) {
	want := "numeric(" + strconv.Itoa(pgtypes.UnconstrainedNumericWidth) + "," + strconv.Itoa(pgtypes.UnconstrainedNumericScale) + ")"
	if declaredNumeric != want || declaredDuck(declaredNumeric) != strings.ToUpper(strings.Replace(want, "numeric", "decimal", 1)) {
		t.Fatalf("declared %q → %q, want %q", declaredNumeric, declaredDuck(declaredNumeric), want)
	}
}
