package pgfunc

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// This file implements to_number(text, template) as PostgreSQL 15 does it
// (numeric_to_number and the "from char" half of NUM_processor in
// src/backend/utils/adt/formatting.c). The template is parsed by the same
// parseTemplate that to_char uses; then a reader walks the template nodes
// over the input and collects a sign and a digit string, which is finally
// checked against the precision and scale the template implies, exactly as
// numeric_in with a typmod would.
//
// PostgreSQL's reader is lenient and works byte by byte: a digit position
// that meets something other than a digit (or the decimal point) consumes
// that byte without reading anything, and every literal character of the
// template skips one input character, whether or not they match. We keep
// those rules, because applications depend on their results.

// ToNumber is PostgreSQL's to_number(text, template): the number the text
// holds, read by the template, as decimal text ("-12454.8", "0", "1234.5")
// that DuckDB can CAST to DECIMAL; errors a client causes are *pgerr.Error
// with PostgreSQL's SQLSTATE.
//
// An empty template, for which PostgreSQL returns NULL, gives "" and no
// error; callers must turn that into NULL.
func ToNumber(text, template string) (string, error) {
	if template == "" {
		return "", nil
	}
	nodes, desc, err := parseTemplate(template)
	if err != nil {
		return "", err
	}
	switch {
	case desc.has(flagEEEE):
		return "", pgerr.New(pgerr.FeatureNotSupported, `"EEEE" not supported for input`)
	case desc.has(flagRoman):
		return "", pgerr.New(pgerr.FeatureNotSupported, `"RN" not supported for input`)
	}
	r := numberReader{desc: &desc, in: text, sign: ' '}
	for _, n := range nodes {
		if r.atEnd() {
			break
		}
		if n.key == kwNone {
			// A literal skips one input character, matching or not.
			_, size := utf8.DecodeRuneInString(r.in[r.pos:])
			r.pos += size
			continue
		}
		r.pattern(n.key)
	}
	return r.finish()
}

// numberReader is the state of one to_number scan.
type numberReader struct {
	desc *numDesc
	in   string
	pos  int // next input byte; may run past the end

	sign      byte   // ' ' until a sign has been read, then '+' or '-'
	digits    []byte // digits read, with '.' where the point was read
	intDigits int    // digits read before the point
	fracDigit int    // digits read after the point
	sawPoint  bool
}

func (r *numberReader) atEnd() bool { return r.pos >= len(r.in) }

// rest is the unread input.
func (r *numberReader) rest() string {
	if r.atEnd() {
		return ""
	}
	return r.in[r.pos:]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// pattern handles one template pattern other than a literal.
func (r *numberReader) pattern(key numKeyword) {
	d := r.desc
	switch key {
	case kwNine, kwZero, kwDecimalPoint, kwLocaleDecimal:
		r.numberPart(key)
		r.pos++ // the position always consumes the byte it stopped on
	case kwComma, kwGroup:
		// A separator is consumed only where the input has one; under FM
		// the template's separators are ignored altogether.
		if !d.has(flagFillMode) && strings.HasPrefix(r.rest(), localeThousands) {
			r.pos += len(localeThousands)
		}
	case kwCurrency:
		r.skipNonData(utf8.RuneCountInString(localeCurrency))
	case kwOrdinal, kwOrdinalLower:
		// An ordinal suffix takes two characters, but only in an integer
		// template.
		if !d.has(flagDecimal) {
			r.skipNonData(2)
		}
	case kwMinus:
		r.explicitSign("-")
	case kwPlus:
		r.explicitSign("+")
	case kwSign:
		r.explicitSign("+-")
	}
	// S, PR, B, C, FM, SP and V read nothing by themselves: S and PR are
	// handled where the digits are read.
}

// explicitSign reads the sign of an MI, PL or SG pattern: one of allowed,
// or else one non-data character is skipped.
func (r *numberReader) explicitSign(allowed string) {
	if !r.atEnd() && strings.IndexByte(allowed, r.in[r.pos]) >= 0 {
		r.sign = r.in[r.pos]
		r.pos++
		return
	}
	r.skipNonData(1)
}

// skipNonData skips up to n input characters, stopping at anything that
// could be part of the number.
func (r *numberReader) skipNonData(n int) {
	for ; n > 0 && !r.atEnd(); n-- {
		if strings.IndexByte("0123456789.,+-", r.in[r.pos]) >= 0 {
			return
		}
		_, size := utf8.DecodeRuneInString(r.in[r.pos:])
		r.pos += size
	}
}

// numberPart reads at a digit position or decimal point of the template: a
// leading sign before the first digit, then a digit or the point, then
// possibly a trailing sign. It leaves pos on the last byte it used; the
// caller steps past it.
func (r *numberReader) numberPart(key numKeyword) {
	d := r.desc
	if r.atEnd() {
		return
	}
	if r.in[r.pos] == ' ' {
		r.pos++
		if r.atEnd() {
			return
		}
	}

	// A sign ahead of the number.
	if r.sign == ' ' && (key == kwNine || key == kwZero) && r.intDigits+r.fracDigit == 0 {
		if d.has(flagLocaleSign) && d.lsign == signBefore {
			r.localeSign(r.pos)
		} else {
			switch c := r.in[r.pos]; {
			case c == '-' || (c == '<' && d.has(flagBracket)):
				r.sign = '-'
				r.pos++
			case c == '+':
				r.sign = '+'
				r.pos++
			}
		}
		if r.atEnd() {
			return
		}
	}

	read := false
	switch c := r.in[r.pos]; {
	case isDigit(c):
		if r.sawPoint && r.fracDigit == d.post {
			return // no room left after the point
		}
		r.digits = append(r.digits, c)
		if r.sawPoint {
			r.fracDigit++
		} else {
			r.intDigits++
		}
		read = true
	case d.has(flagDecimal) && !r.sawPoint && strings.HasPrefix(r.rest(), localeDecimal):
		r.pos += len(localeDecimal) - 1
		r.digits = append(r.digits, '.')
		r.sawPoint = true
		read = true
	}
	if r.atEnd() {
		return
	}

	// A sign behind the number. Where exactly a trailing sign sits is hard
	// to tell from the template, so it is looked for after every digit.
	if r.sign != ' ' || r.intDigits+r.fracDigit == 0 {
		return
	}
	switch {
	case d.has(flagLocaleSign):
		// S: the sign must follow the character just read directly.
		if read && r.pos+1 < len(r.in) && !isDigit(r.in[r.pos+1]) {
			if n := r.localeSign(r.pos + 1); n > 0 {
				r.pos += n // onto the sign's last byte; the caller steps past it
			}
		}
	case !read && d.has(flagPlus|flagMinus):
		// MI/PL/SG in a template that does not pin the sign down: take a
		// sign found where a digit was expected (the caller skips it).
		if c := r.in[r.pos]; c == '-' || c == '+' {
			r.sign = c
		}
	}
}

// localeSign reads a locale sign at byte at, setting r.sign; when it finds
// one it moves pos past it when at is pos, and returns its length.
func (r *numberReader) localeSign(at int) int {
	s := r.in[at:]
	for _, ls := range []struct {
		text string
		sign byte
	}{{localeMinus, '-'}, {localePlus, '+'}} {
		if ls.text != "" && strings.HasPrefix(s, ls.text) {
			r.sign = ls.sign
			if at == r.pos {
				r.pos += len(ls.text)
			}
			return len(ls.text)
		}
	}
	return 0
}

// finish turns what was read into a numeric, as numeric_in does with the
// precision and scale the template implies, then applies V's scaling.
func (r *numberReader) finish() (string, error) {
	digits := string(r.digits)
	digits = strings.TrimSuffix(digits, ".") // "5." is read as 5
	numstr := string(r.sign) + digits
	if digits == "" {
		return "", pgerr.New(pgerr.InvalidTextRepresentation,
			"invalid input syntax for type numeric: \"%s\"", numstr)
	}
	num, err := parseNumeric(numstr)
	if err != nil {
		return "", err
	}
	if err := r.applyTypmod(&num); err != nil {
		return "", err
	}
	// V: the digits after it were read as integer digits; divide them back.
	// PostgreSQL 15 multiplies by power(10, -multi), which it computes to
	// only 16 decimals (NUMERIC_MIN_SIG_DIGITS): beyond that the factor,
	// and so the result, is zero.
	if r.desc.multi > vMaxShift {
		return "0", nil
	}
	num.scale += r.desc.multi
	return num.fixed(num.scale), nil
}

// vMaxShift is the most decimal places power(10, -n) keeps in PostgreSQL 15.
const vMaxShift = 16

// applyTypmod rounds num to the template's scale and rejects it when its
// integer part has more digits than the template allows, as numeric_in's
// apply_typmod does for numeric(pre+multi+scale, scale), where scale is the
// number of digits actually read after the point. The typmod is packed and
// unpacked as PostgreSQL packs it, so absurdly long templates behave alike.
func (r *numberReader) applyTypmod(num *numericValue) error {
	precision := int32(r.desc.pre + r.desc.multi + r.fracDigit)
	typmod := (precision<<16 | int32(r.fracDigit)) + 4
	if typmod < 4 {
		return nil
	}
	precision = (typmod - 4) >> 16 & 0xffff
	scale := ((typmod-4)&0x7ff ^ 1024) - 1024
	maxDigits := int(precision - scale)

	coef := num.rescale(int(scale))
	num.coef, num.scale = coef, int(scale)
	if scale < 0 {
		coef.Mul(coef, pow10Int(int(-scale)))
		num.scale = 0
	}

	intDigits := 0
	if whole := new(big.Int).Quo(coef, pow10Int(num.scale)); whole.Sign() != 0 {
		intDigits = len(whole.String())
	}
	if intDigits > maxDigits {
		bound := "1"
		if maxDigits != 0 {
			bound = "10^" + strconv.Itoa(maxDigits)
		}
		return pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").WithDetail(fmt.Sprintf(
			"A field with precision %d, scale %d must round to an absolute value less than %s.",
			precision, scale, bound))
	}
	return nil
}
