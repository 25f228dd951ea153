package pgfunc

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// This file implements to_char(number, text) as PostgreSQL 15 does it in
// src/backend/utils/adt/formatting.c. The work happens in three steps, just
// as in PostgreSQL:
//
//  1. The template is parsed into a list of nodes (keywords and literal
//     characters) while a numDesc summary (digit counts, sign style, ...) is
//     accumulated; impossible combinations are rejected here.
//  2. The value is turned into a plain digit string ("1234.50", "###.##",
//     "MMXXIV", " 1.23e+02") whose shape depends on the value's type.
//  3. A small state machine walks the nodes and emits the digit string
//     interleaved with padding, signs and literal text.
//
// Only the C locale is supported, which is what hopsql's server reports; in
// that locale the locale-aware patterns (D, G, L, S) print ".", ",", " " and
// "+"/"-".

// Locale strings PostgreSQL derives from the C locale's empty lconv fields.
const (
	localeDecimal   = "."
	localeThousands = ","
	localeCurrency  = " "
	localeMinus     = "-"
	localePlus      = "+"
)

// The number of significant decimal digits a float8 is trusted to hold
// (C's DBL_DIG); PostgreSQL never prints more than this many for float8.
const float8Digits = 15

// float4Digits is FLT_DIG, what float4_to_char keeps.
const float4Digits = 6

// numKeyword identifies a template pattern.
type numKeyword int

const (
	kwNone numKeyword = iota // a literal character, not a pattern
	kwComma
	kwDecimalPoint
	kwZero
	kwNine
	kwBlank
	kwC
	kwLocaleDecimal
	kwEEEE
	kwFillMode
	kwGroup
	kwCurrency
	kwMinus
	kwPlus
	kwBracket
	kwRoman
	kwRomanLower
	kwSign
	kwSP
	kwLocaleSign
	kwOrdinal
	kwOrdinalLower
	kwMultiply
)

// numKeywords lists the patterns in the order PostgreSQL tries them: for a
// given first letter the longer spelling must come first ("SG" before "S").
var numKeywords = []struct {
	name string
	id   numKeyword
}{
	{",", kwComma}, {".", kwDecimalPoint}, {"0", kwZero}, {"9", kwNine},
	{"B", kwBlank}, {"C", kwC}, {"D", kwLocaleDecimal}, {"EEEE", kwEEEE},
	{"FM", kwFillMode}, {"G", kwGroup}, {"L", kwCurrency}, {"MI", kwMinus},
	{"PL", kwPlus}, {"PR", kwBracket}, {"RN", kwRoman}, {"SG", kwSign},
	{"SP", kwSP}, {"S", kwLocaleSign}, {"TH", kwOrdinal}, {"V", kwMultiply},
	{"b", kwBlank}, {"c", kwC}, {"d", kwLocaleDecimal}, {"eeee", kwEEEE},
	{"fm", kwFillMode}, {"g", kwGroup}, {"l", kwCurrency}, {"mi", kwMinus},
	{"pl", kwPlus}, {"pr", kwBracket}, {"rn", kwRomanLower}, {"sg", kwSign},
	{"sp", kwSP}, {"s", kwLocaleSign}, {"th", kwOrdinalLower}, {"v", kwMultiply},
}

// matchKeyword returns the pattern that starts s, if any, and its length.
func matchKeyword(s string) (numKeyword, int) {
	for _, kw := range numKeywords {
		if strings.HasPrefix(s, kw.name) {
			return kw.id, len(kw.name)
		}
	}
	return kwNone, 0
}

// numFlags records which kinds of pattern a template uses.
type numFlags uint16

const (
	flagDecimal numFlags = 1 << iota
	flagLocaleDecimal
	flagZero
	flagBlank
	flagFillMode
	flagLocaleSign
	flagBracket
	flagMinus
	flagPlus
	flagRoman
	flagMulti
	flagEEEE
)

// signPlacement says where an "S" pattern anchors the sign.
type signPlacement int

const (
	signNone signPlacement = iota
	signBefore
	signAfter
)

// numDesc summarizes a parsed template (PostgreSQL's NUMDesc).
type numDesc struct {
	pre, post   int           // digit positions before / after the decimal point
	lsign       signPlacement // placement of an "S" sign
	preLsignNum int           // digits seen before "S" when it was leading
	flags       numFlags
	multi       int // digits after "V": the value is scaled by 10^multi
	zeroStart   int // 1-based position of the first "0" before the point
	zeroEnd     int // position of the last "0"
}

func (d *numDesc) has(f numFlags) bool { return d.flags&f != 0 }

// templateNode is one parsed element of a template: a pattern or a literal.
type templateNode struct {
	key numKeyword
	lit string // the literal text when key is kwNone
}

func syntaxError(format string, args ...any) error {
	return pgerr.New(pgerr.SyntaxError, format, args...)
}

// add folds one pattern into the summary, rejecting the combinations
// PostgreSQL rejects.
func (d *numDesc) add(key numKeyword) error {
	if d.has(flagEEEE) && key != kwEEEE {
		return syntaxError(`"EEEE" must be the last pattern used`)
	}
	switch key {
	case kwNine:
		if d.has(flagBracket) {
			return syntaxError(`"9" must be ahead of "PR"`)
		}
		switch {
		case d.has(flagMulti):
			d.multi++
		case d.has(flagDecimal):
			d.post++
		default:
			d.pre++
		}
	case kwZero:
		if d.has(flagBracket) {
			return syntaxError(`"0" must be ahead of "PR"`)
		}
		// Zeros before the point start zero-padding from the first one on.
		if !d.has(flagZero) && !d.has(flagDecimal) {
			d.flags |= flagZero
			d.zeroStart = d.pre + 1
		}
		if d.has(flagDecimal) {
			d.post++
		} else {
			d.pre++
		}
		d.zeroEnd = d.pre + d.post
	case kwBlank:
		if d.pre == 0 && d.post == 0 && !d.has(flagZero) {
			d.flags |= flagBlank
		}
	case kwLocaleDecimal, kwDecimalPoint:
		if key == kwLocaleDecimal {
			d.flags |= flagLocaleDecimal
		}
		if d.has(flagDecimal) {
			return syntaxError("multiple decimal points")
		}
		if d.has(flagMulti) {
			return syntaxError(`cannot use "V" and decimal point together`)
		}
		d.flags |= flagDecimal
	case kwFillMode:
		d.flags |= flagFillMode
	case kwLocaleSign:
		if d.has(flagLocaleSign) {
			return syntaxError(`cannot use "S" twice`)
		}
		if d.has(flagPlus) || d.has(flagMinus) || d.has(flagBracket) {
			return syntaxError(`cannot use "S" and "PL"/"MI"/"SG"/"PR" together`)
		}
		if !d.has(flagDecimal) {
			d.lsign = signBefore
			d.preLsignNum = d.pre
			d.flags |= flagLocaleSign
		} else if d.lsign == signNone {
			d.lsign = signAfter
			d.flags |= flagLocaleSign
		}
	case kwMinus:
		if d.has(flagLocaleSign) {
			return syntaxError(`cannot use "S" and "MI" together`)
		}
		d.flags |= flagMinus
	case kwPlus:
		if d.has(flagLocaleSign) {
			return syntaxError(`cannot use "S" and "PL" together`)
		}
		d.flags |= flagPlus
	case kwSign:
		if d.has(flagLocaleSign) {
			return syntaxError(`cannot use "S" and "SG" together`)
		}
		d.flags |= flagMinus | flagPlus
	case kwBracket:
		if d.has(flagLocaleSign) || d.has(flagPlus) || d.has(flagMinus) {
			return syntaxError(`cannot use "PR" and "S"/"PL"/"MI"/"SG" together`)
		}
		d.flags |= flagBracket
	case kwRoman, kwRomanLower:
		d.flags |= flagRoman
	case kwMultiply:
		if d.has(flagDecimal) {
			return syntaxError(`cannot use "V" and decimal point together`)
		}
		d.flags |= flagMulti
	case kwEEEE:
		if d.has(flagEEEE) {
			return syntaxError(`cannot use "EEEE" twice`)
		}
		if d.has(flagBlank | flagFillMode | flagLocaleSign | flagBracket |
			flagMinus | flagPlus | flagRoman | flagMulti) {
			return syntaxError(`"EEEE" is incompatible with other formats`)
		}
		d.flags |= flagEEEE
	}
	return nil
}

// parseTemplate splits a template into nodes and summarizes its patterns.
// Text in double quotes is literal (a backslash there escapes the next
// character); outside quotes only `\"` is an escape, and every character that
// is not a pattern is copied to the output as is.
func parseTemplate(tmpl string) ([]templateNode, numDesc, error) {
	var (
		nodes []templateNode
		desc  numDesc
	)
	literal := func(s string, i int) int {
		_, size := utf8.DecodeRuneInString(s[i:])
		nodes = append(nodes, templateNode{lit: s[i : i+size]})
		return i + size
	}
	for i := 0; i < len(tmpl); {
		if key, n := matchKeyword(tmpl[i:]); n > 0 {
			nodes = append(nodes, templateNode{key: key})
			if err := desc.add(key); err != nil {
				return nil, desc, err
			}
			i += n
			continue
		}
		if tmpl[i] == '"' {
			for i++; i < len(tmpl); {
				if tmpl[i] == '"' {
					i++
					break
				}
				if tmpl[i] == '\\' && i+1 < len(tmpl) {
					i++
				}
				i = literal(tmpl, i)
			}
			continue
		}
		if tmpl[i] == '\\' && i+1 < len(tmpl) && tmpl[i+1] == '"' {
			i++
		}
		i = literal(tmpl, i)
	}
	return nodes, desc, nil
}

// Number kinds ToCharNumber formats differently.
const (
	KindNumeric = iota // numeric and integers: exact, half away from zero
	KindFloat8         // printf's half to even on the binary value, 15 digits
	KindFloat4         // as float8, with the 6 digits a float4 holds
)

// ToCharNumber formats value as PostgreSQL's to_char(value, template).
// value is the decimal text of the number as DuckDB prints it (e.g.
// "1234.50", "-5", "0.004", "1e+20", "1.5e-07", "inf", "-inf", "nan");
// float is true when the value is a float8 (PostgreSQL rounds those with
// printf's round-half-even on the binary double and keeps the sign of
// negative zero; numeric and integers round half away from zero on the
// exact decimal).
func ToCharNumber(value, template string, float bool) (string, error) {
	kind := KindNumeric
	if float {
		kind = KindFloat8
	}
	return ToCharKind(value, template, kind)
}

// ToCharKind is ToCharNumber for a kind of number.
func ToCharKind(value, template string, kind int) (string, error) {
	if template == "" {
		return "", nil
	}
	nodes, desc, err := parseTemplate(template)
	if err != nil {
		return "", err
	}
	var digits preparedNumber
	switch kind {
	case KindFloat8:
		digits, err = prepareFloat(value, &desc, float8Digits)
	case KindFloat4:
		digits, err = prepareFloat(value, &desc, float4Digits)
	default:
		digits, err = prepareNumeric(value, &desc)
	}
	if err != nil {
		return "", err
	}
	return formatNumber(nodes, desc, digits)
}

// preparedNumber is the value rendered for the formatter: its unsigned
// digits (or the final text for EEEE, or a Roman numeral), its sign, and how
// many template digit positions lie left of its first digit.
type preparedNumber struct {
	digits    string
	sign      byte // '+', '-', or 0 when the sign is not printed (RN, EEEE)
	padBefore int
}

// overflowDigits is what PostgreSQL prints when the integer part does not
// fit the template: every digit position becomes '#'.
func overflowDigits(desc *numDesc) string {
	b := []byte(strings.Repeat("#", desc.pre+desc.post+1))
	b[desc.pre] = '.'
	return string(b)
}

// nonFiniteEEEE is the scientific-notation placeholder for NaN and infinity:
// room for the sign, digits, point, "e", exponent sign and two digits.
func nonFiniteEEEE(desc *numDesc) string {
	b := []byte(strings.Repeat("#", desc.pre+desc.post+6))
	b[0] = ' '
	b[desc.pre+1] = '.'
	return string(b)
}

// splitSigned separates a printed number into sign and digits and works out
// how it lines up with the template's integer positions.
func splitSigned(printed string, desc *numDesc) preparedNumber {
	p := preparedNumber{sign: '+', digits: printed}
	if strings.HasPrefix(printed, "-") {
		p.sign = '-'
		p.digits = printed[1:]
	}
	intLen := len(p.digits)
	if dot := strings.IndexByte(p.digits, '.'); dot >= 0 {
		intLen = dot
	}
	switch {
	case intLen < desc.pre:
		p.padBefore = desc.pre - intLen
	case intLen > desc.pre:
		p.digits = overflowDigits(desc)
	}
	return p
}

// prepareFloat renders a float8 the way float8_to_char does: printf-style
// rounding of the binary value, at most 15 significant digits in total.
func prepareFloat(value string, desc *numDesc, maxDigits int) (preparedNumber, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return preparedNumber{}, pgerr.New(pgerr.InvalidTextRepresentation,
			"invalid input syntax for type double precision: \"%s\"", value)
	}
	switch {
	case desc.has(flagRoman):
		// rint() rounds half to even; anything outside int32 prints as '#'.
		r := math.RoundToEven(v)
		n := int64(0)
		if !math.IsNaN(r) && r >= math.MinInt32 && r <= math.MaxInt32 {
			n = int64(r)
		}
		return preparedNumber{digits: intToRoman(n)}, nil
	case desc.has(flagEEEE):
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return preparedNumber{digits: nonFiniteEEEE(desc)}, nil
		}
		s := strconv.FormatFloat(v, 'e', desc.post, 64)
		if !strings.HasPrefix(s, "-") {
			s = " " + s
		}
		return preparedNumber{digits: s}, nil
	}
	if desc.has(flagMulti) {
		v *= pow10Float(desc.multi)
		desc.pre += desc.multi
	}
	// Digits beyond what a double holds are not printed: shrink the
	// fractional part so the total stays within 15 digits.
	intLen := len(printfFixed(math.Abs(v), 0))
	if intLen >= maxDigits {
		desc.post = 0
	} else if intLen+desc.post > maxDigits {
		desc.post = maxDigits - intLen
	}
	return splitSigned(printfFixed(v, desc.post), desc), nil
}

// pow10Float is 10^n correctly rounded, as C's pow(10, n) gives it.
func pow10Float(n int) float64 {
	f, _ := strconv.ParseFloat("1e"+strconv.Itoa(n), 64)
	return f
}

// printfFixed prints v like PostgreSQL's snprintf "%.*f": exact decimal
// expansion rounded half to even, and NaN/Infinity spelled out.
func printfFixed(v float64, prec int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// prepareNumeric renders a numeric (or integer) value the way
// numeric_to_char does: exact decimal arithmetic, half away from zero.
func prepareNumeric(value string, desc *numDesc) (preparedNumber, error) {
	num, err := parseNumeric(value)
	if err != nil {
		return preparedNumber{}, err
	}
	switch {
	case desc.has(flagRoman):
		n, err := num.toInt32()
		if err != nil {
			return preparedNumber{}, err
		}
		return preparedNumber{digits: intToRoman(n)}, nil
	case desc.has(flagEEEE):
		if num.kind != finite {
			return preparedNumber{digits: nonFiniteEEEE(desc)}, nil
		}
		s := num.scientific(desc.post)
		if !strings.HasPrefix(s, "-") {
			s = " " + s
		}
		return preparedNumber{digits: s}, nil
	}
	if desc.has(flagMulti) {
		num.scale -= desc.multi
		desc.pre += desc.multi
	}
	return splitSigned(num.fixed(desc.post), desc), nil
}

// numericKind distinguishes finite numerics from PostgreSQL's special values.
type numericKind int

const (
	finite numericKind = iota
	notANumber
	posInfinity
	negInfinity
)

// numericValue is an exact decimal: (-1)^neg * coef * 10^-scale.
type numericValue struct {
	kind  numericKind
	neg   bool
	coef  *big.Int // absolute value of the unscaled digits
	scale int
}

// maxExponent bounds the exponent accepted in input text so that a hostile
// value cannot make us allocate enormous powers of ten. PostgreSQL's numeric
// cannot hold more than 131072 integer digits either.
const maxExponent = 200000

// parseNumeric reads the decimal text of a numeric or integer value, in
// plain or exponent notation, or one of the special values.
func parseNumeric(text string) (numericValue, error) {
	s := strings.TrimSpace(text)
	switch strings.ToLower(s) {
	case "nan", "+nan", "-nan":
		return numericValue{kind: notANumber}, nil
	case "inf", "+inf", "infinity", "+infinity":
		return numericValue{kind: posInfinity}, nil
	case "-inf", "-infinity":
		return numericValue{kind: negInfinity}, nil
	}
	bad := func() (numericValue, error) {
		return numericValue{}, pgerr.New(pgerr.InvalidTextRepresentation,
			"invalid input syntax for type numeric: \"%s\"", text)
	}
	num := numericValue{kind: finite}
	if s != "" && (s[0] == '+' || s[0] == '-') {
		num.neg = s[0] == '-'
		s = s[1:]
	}
	mantissa, exponent := s, ""
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		mantissa, exponent = s[:e], s[e+1:]
	}
	intPart, fracPart, _ := strings.Cut(mantissa, ".")
	digits := intPart + fracPart
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return bad()
	}
	num.coef, _ = new(big.Int).SetString(digits, 10)
	num.scale = len(fracPart)
	if exponent != "" {
		exp, err := strconv.Atoi(exponent)
		if err != nil {
			return bad()
		}
		if exp > maxExponent || exp < -maxExponent {
			return numericValue{}, pgerr.New(pgerr.NumericValueOutOfRange,
				"value overflows numeric format")
		}
		num.scale -= exp
	}
	return num, nil
}

func pow10Int(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// rescale returns the unscaled digits of |num| at the given scale, rounding
// half away from zero when digits are dropped.
func (num numericValue) rescale(scale int) *big.Int {
	if scale >= num.scale {
		return new(big.Int).Mul(num.coef, pow10Int(scale-num.scale))
	}
	div := pow10Int(num.scale - scale)
	q, r := new(big.Int).QuoRem(num.coef, div, new(big.Int))
	if r.Lsh(r, 1).Cmp(div) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// withPoint prints unscaled digits with scale digits after the point.
func withPoint(coef *big.Int, scale int) string {
	s := coef.String()
	if scale <= 0 {
		return s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// fixed prints the value rounded to scale decimals, like numeric_out applied
// to round(num, scale). Zero never carries a minus sign.
func (num numericValue) fixed(scale int) string {
	switch num.kind {
	case notANumber:
		return "NaN"
	case posInfinity:
		return "Infinity"
	case negInfinity:
		return "-Infinity"
	}
	if scale < 0 {
		scale = 0
	}
	coef := num.rescale(scale)
	s := withPoint(coef, scale)
	if num.neg && coef.Sign() != 0 {
		s = "-" + s
	}
	return s
}

// scientific prints a finite value like PostgreSQL's numeric_out_sci. The
// exponent is fixed before rounding, so 9.99 with one decimal prints as
// "10.0e+00": PostgreSQL does the same and we must match it.
func (num numericValue) scientific(scale int) string {
	exponent := 0
	var coef *big.Int
	if num.coef.Sign() == 0 {
		coef = num.rescale(scale)
	} else {
		nd := len(num.coef.String())
		exponent = nd - 1 - num.scale
		// Dividing by 10^exponent just moves the point: the significand has
		// nd-1 decimals.
		sig := numericValue{kind: finite, coef: num.coef, scale: nd - 1}
		coef = sig.rescale(scale)
	}
	s := withPoint(coef, scale)
	if num.neg && num.coef.Sign() != 0 {
		s = "-" + s
	}
	expSign := byte('+')
	if exponent < 0 {
		expSign = '-'
		exponent = -exponent
	}
	exp := strconv.Itoa(exponent)
	if len(exp) < 2 {
		exp = "0" + exp
	}
	return s + "e" + string(expSign) + exp
}

// toInt32 rounds to an integer and converts it as numeric_int4 does, with
// that function's errors.
func (num numericValue) toInt32() (int64, error) {
	switch num.kind {
	case notANumber:
		return 0, pgerr.New(pgerr.FeatureNotSupported, "cannot convert NaN to integer")
	case posInfinity, negInfinity:
		return 0, pgerr.New(pgerr.FeatureNotSupported, "cannot convert infinity to integer")
	}
	n := num.rescale(0)
	if num.neg {
		n.Neg(n)
	}
	if !n.IsInt64() || n.Int64() < math.MinInt32 || n.Int64() > math.MaxInt32 {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "integer out of range")
	}
	return n.Int64(), nil
}

// intToRoman spells 1..3999 in upper-case Roman numerals; anything else
// becomes 15 '#' characters, as in Oracle.
func intToRoman(n int64) string {
	if n < 1 || n > 3999 {
		return strings.Repeat("#", 15)
	}
	ones := []string{"", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"}
	tens := []string{"", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"}
	hundreds := []string{"", "C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM"}
	return strings.Repeat("M", int(n/1000)) + hundreds[n/100%10] + tens[n/10%10] + ones[n%10]
}

// ordinalSuffix returns st/nd/rd/th for the digits in num; the teens all
// take "th".
func ordinalSuffix(num string, upper bool) (string, error) {
	last := num[len(num)-1]
	if last < '0' || last > '9' {
		return "", pgerr.New(pgerr.InvalidTextRepresentation, "\"%s\" is not a number", num)
	}
	if len(num) > 1 && num[len(num)-2] == '1' {
		last = '0'
	}
	suffix := "th"
	switch last {
	case '1':
		suffix = "st"
	case '2':
		suffix = "nd"
	case '3':
		suffix = "rd"
	}
	if upper {
		suffix = strings.ToUpper(suffix)
	}
	return suffix, nil
}

// formatter walks the template nodes and writes the prepared digits
// (PostgreSQL's NUM_processor in to_char mode).
type formatter struct {
	desc      numDesc
	number    string // the prepared digits
	pos       int    // next character of number to write
	sign      byte
	signWrote bool
	numCount  int  // index of the last digit position
	numIn     bool // the previous digit position printed a digit
	numCurr   int  // index of the current digit position
	padBefore int
	// lastRelevant is the index in number of the last fractional digit
	// that FM keeps (-1 when FM does not trim).
	lastRelevant int
	out          []byte
}

// current is the digit under the cursor; past the end it is NUL, which (as
// in PostgreSQL, where it terminates the C string) cuts the output short.
func (f *formatter) current() byte {
	if f.pos < len(f.number) {
		return f.number[f.pos]
	}
	return 0
}

func (f *formatter) fill() bool { return f.desc.has(flagFillMode) }

func (f *formatter) relevantIsPoint() bool {
	return f.lastRelevant >= 0 && f.number[f.lastRelevant] == '.'
}

// beforePointSpace reports the "0.5" with "9.9" case, where the leading
// zero of a fraction is shown as a blank rather than a digit.
func (f *formatter) beforePointSpace() bool {
	return !f.desc.has(flagZero) && f.pos == 0 && f.number != "" && f.number[0] == '0' && f.desc.post != 0
}

func formatNumber(nodes []templateNode, desc numDesc, num preparedNumber) (string, error) {
	// Scientific notation was fully rendered while preparing the value; the
	// rest of the template (literals included) is ignored.
	if desc.has(flagEEEE) {
		return num.digits, nil
	}
	f := &formatter{desc: desc, number: num.digits, sign: num.sign, padBefore: num.padBefore, lastRelevant: -1}
	if f.desc.zeroStart > 0 {
		f.desc.zeroStart--
	}
	if f.desc.has(flagRoman) {
		// A Roman numeral takes no digits, signs or decimal point.
		f.desc = numDesc{flags: flagRoman | f.desc.flags&flagFillMode}
		f.padBefore, f.sign = 0, 0
	}
	f.setupSign()
	f.numCount = f.desc.post + f.desc.pre - 1
	if f.fill() && f.desc.has(flagDecimal) {
		f.setupTrim()
	}
	if !f.signWrote && f.padBefore == 0 {
		f.numCount++
	}
	for _, n := range nodes {
		if n.key == kwNone {
			f.out = append(f.out, n.lit...)
			continue
		}
		if err := f.pattern(n.key); err != nil {
			return "", err
		}
	}
	out := f.out
	if i := bytes.IndexByte(out, 0); i >= 0 {
		out = out[:i]
	}
	return string(out), nil
}

// setupSign decides whether the sign still needs to be written next to the
// digits or is handled elsewhere (by MI/PL/SG, or omitted under FM).
func (f *formatter) setupSign() {
	d := &f.desc
	if d.has(flagPlus) || d.has(flagMinus) {
		// PL alone still needs the '-' of a negative number near the digits.
		f.signWrote = !(d.has(flagPlus) && !d.has(flagMinus))
		return
	}
	if f.sign != '-' && f.fill() {
		d.flags &^= flagBracket
	}
	f.signWrote = f.sign == '+' && f.fill() && !d.has(flagLocaleSign)
	// A leading "S" with no digit positions after it moves behind the number.
	if d.lsign == signBefore && d.pre == d.preLsignNum {
		d.lsign = signAfter
	}
}

// setupTrim finds how many fractional digits FM keeps: trailing zeros go,
// unless the template asked for them with "0".
func (f *formatter) setupTrim() {
	dot := strings.IndexByte(f.number, '.')
	if dot < 0 {
		return
	}
	f.lastRelevant = dot
	for i := dot + 1; i < len(f.number); i++ {
		if f.number[i] != '0' {
			f.lastRelevant = i
		}
	}
	if f.desc.zeroEnd > f.padBefore {
		lastZero := min(len(f.number)-1, f.desc.zeroEnd-f.padBefore)
		if f.lastRelevant < lastZero {
			f.lastRelevant = lastZero
		}
	}
}

func (f *formatter) writeSign() {
	if f.sign == '-' {
		f.out = append(f.out, localeMinus...)
	} else {
		f.out = append(f.out, localePlus...)
	}
}

// pattern writes the output of one template pattern.
func (f *formatter) pattern(key numKeyword) error {
	switch key {
	case kwNine, kwZero, kwDecimalPoint, kwLocaleDecimal:
		f.digit(key)
	case kwComma, kwGroup:
		switch {
		case f.numIn:
			f.out = append(f.out, localeThousands...)
		case !f.fill():
			f.out = append(f.out, ' ')
		}
	case kwCurrency:
		f.out = append(f.out, localeCurrency...)
	case kwRoman, kwRomanLower:
		s := f.number
		if key == kwRomanLower {
			s = strings.ToLower(s)
		}
		if !f.fill() && len(s) < 15 {
			s = strings.Repeat(" ", 15-len(s)) + s
		}
		f.out = append(f.out, s...)
	case kwOrdinal, kwOrdinalLower:
		if f.desc.has(flagRoman) || f.number[0] == '#' || f.sign == '-' || f.desc.has(flagDecimal) {
			return nil
		}
		suffix, err := ordinalSuffix(f.number, key == kwOrdinal)
		if err != nil {
			return err
		}
		f.out = append(f.out, suffix...)
	case kwMinus:
		switch {
		case f.sign == '-':
			f.out = append(f.out, '-')
		case !f.fill():
			f.out = append(f.out, ' ')
		}
	case kwPlus:
		switch {
		case f.sign == '+':
			f.out = append(f.out, '+')
		case !f.fill():
			f.out = append(f.out, ' ')
		}
	case kwSign:
		f.out = append(f.out, f.sign)
	}
	return nil
}

// digit handles one digit position or decimal point of the template: the
// sign may be written first, then a blank, a padding zero, a digit or the
// point, and after the last position a closing bracket or trailing sign.
func (f *formatter) digit(key numKeyword) {
	if f.desc.has(flagRoman) {
		return
	}
	d := &f.desc
	f.numIn = false

	if !f.signWrote &&
		(f.numCurr >= f.padBefore || (d.has(flagZero) && d.zeroStart == f.numCurr)) &&
		(!f.beforePointSpace() || f.relevantIsPoint()) {
		switch {
		case d.has(flagLocaleSign):
			if d.lsign == signBefore {
				f.writeSign()
				f.signWrote = true
			}
		case d.has(flagBracket):
			if f.sign == '+' {
				f.out = append(f.out, ' ')
			} else {
				f.out = append(f.out, '<')
			}
			f.signWrote = true
		case f.sign == '+':
			if !f.fill() {
				f.out = append(f.out, ' ')
			}
			f.signWrote = true
		case f.sign == '-':
			f.out = append(f.out, '-')
			f.signWrote = true
		}
	}

	switch {
	case f.numCurr < f.padBefore && (d.zeroStart > f.numCurr || !d.has(flagZero)):
		if !f.fill() {
			f.out = append(f.out, ' ')
		}
	case d.has(flagZero) && f.numCurr < f.padBefore && d.zeroStart <= f.numCurr:
		f.out = append(f.out, '0')
		f.numIn = true
	default:
		f.writeDigit(key)
	}

	end := f.numCount
	if f.padBefore > 0 {
		end++
	}
	if d.has(flagDecimal) {
		end++
	}
	if f.lastRelevant >= 0 && f.lastRelevant == f.pos {
		end = f.numCurr
	}
	if f.numCurr+1 == end {
		switch {
		case f.signWrote && d.has(flagBracket):
			if f.sign == '+' {
				f.out = append(f.out, ' ')
			} else {
				f.out = append(f.out, '>')
			}
		case d.has(flagLocaleSign) && d.lsign == signAfter:
			f.writeSign()
		}
	}
	f.numCurr++
}

// writeDigit emits the next character of the prepared number, applying FM's
// trimming of trailing fractional zeros and the blank for a leading zero.
func (f *formatter) writeDigit(key numKeyword) {
	c := f.current()
	switch {
	case c == '.':
		if !f.relevantIsPoint() || f.fill() {
			f.out = append(f.out, localeDecimal...)
		}
	case f.lastRelevant >= 0 && f.pos > f.lastRelevant && key != kwZero:
		// A trailing zero that FM drops.
	case f.beforePointSpace():
		if !f.fill() {
			f.out = append(f.out, ' ')
		} else if f.relevantIsPoint() {
			f.out = append(f.out, '0')
		}
	default:
		f.out = append(f.out, c)
		f.numIn = true
	}
	if c != 0 {
		f.pos++
	}
}
