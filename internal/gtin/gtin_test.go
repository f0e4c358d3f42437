package gtin

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Published examples of real or specification codes.
var validCodes = []struct {
	code string
	kind Kind
}{
	{"96385074", KindGTIN8},        // EAN-8 (Wikipedia example)
	{"73513537", KindGTIN8},        // EAN-8
	{"036000291452", KindGTIN12},   // UPC-A (Wikipedia example)
	{"012345678905", KindGTIN12},   // UPC-A
	{"4006381333931", KindGTIN13},  // EAN-13, Stabilo pen
	{"5901234123457", KindGTIN13},  // EAN-13 (GS1 example)
	{"9780306406157", KindGTIN13},  // ISBN-13 as EAN-13
	{"10614141000415", KindGTIN14}, // GTIN-14 (GS1 US example)
	{"00012345600012", KindGTIN14}, // GTIN-12 padded to 14 digits
	{"50012345678900", KindGTIN14},
	{"00000000", KindGTIN8}, // all zeros has check digit 0
}

func TestValid(t *testing.T) {
	for _, c := range validCodes {
		if !Valid(c.code) {
			t.Errorf("Valid(%q) = false; want true", c.code)
		}
	}
	invalid := []string{
		"",
		"4006381333932",  // wrong check digit
		"4006381333930",  // wrong check digit
		"036000291453",   // wrong check digit
		"96385075",       // wrong check digit
		"10614141000416", // wrong check digit
		"4006381333913",  // transposed digits
		"400638133393",   // 12 digits, wrong check digit for a GTIN-12
		"400638133393 ",  // trailing space
		" 4006381333931", // leading space
		"4006-381333931",
		"40063813339311", // 14 digits, wrong check digit
		"1234567",        // GTIN lengths only
		"123456789",
		"1234567890",
		"12345678901",
		"123456789012345",
		"abcdefgh",
		"０３６０００２９１４５２", // full-width digits
	}
	for _, code := range invalid {
		if Valid(code) {
			t.Errorf("Valid(%q) = true; want false", code)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range validCodes {
		got, err := Classify(c.code)
		if err != nil || got != c.kind {
			t.Errorf("Classify(%q) = %q, %v; want %q", c.code, got, err, c.kind)
		}
	}
	others := []string{
		"A",
		"SKU-1234",
		"ABC/12.5",
		"WB 0001-XL",
		"1234567",         // digits, but not a GTIN length
		"123456789",       // digits, but not a GTIN length
		"123456789012345", // 15 digits
		"4006-381333932",  // not all digits, so no check digit rule
		"Café-Crème_№5",   // printable Unicode
		strings.Repeat("x", 64),
		strings.Repeat("é", 64), // 64 characters, 128 bytes
	}
	for _, code := range others {
		got, err := Classify(code)
		if err != nil || got != KindOther {
			t.Errorf("Classify(%q) = %q, %v; want %q", code, got, err, KindOther)
		}
	}
}

func TestClassifyErrors(t *testing.T) {
	tests := []struct {
		code    string
		wantErr string
	}{
		{"", "empty product code"},
		{"4006381333932", `"4006381333932": invalid GTIN-13 check digit (expected 1)`},
		{"036000291453", `"036000291453": invalid GTIN-12 check digit (expected 2)`},
		{"96385070", `"96385070": invalid GTIN-8 check digit (expected 4)`},
		{"10614141000410", `"10614141000410": invalid GTIN-14 check digit (expected 5)`},
		{strings.Repeat("x", 65), "too long (65 characters, at most 64)"},
		{"SKU\t1", "non-printable character U+0009"},
		{"SKU\n1", "non-printable character U+000A"},
		{"SKU\x001", "non-printable character U+0000"},
		{"SKU\x7f1", "non-printable character U+007F"},
		{"SKU\u00a01", "non-printable character U+00A0"}, // no-break space
		{"SKU\u200b1", "non-printable character U+200B"}, // zero-width space
		{"SKU\u20281", "non-printable character U+2028"}, // line separator
		{"\xff\xfe", "not valid UTF-8"},
		{" SKU-1", "leading or trailing spaces"},
		{"SKU-1 ", "leading or trailing spaces"},
		{" ", "leading or trailing spaces"},
		{" 4006381333931", "leading or trailing spaces"},
	}
	for _, tt := range tests {
		got, err := Classify(tt.code)
		if err == nil {
			t.Errorf("Classify(%q) = %q; want error containing %q", tt.code, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Classify(%q) error = %q; want it to contain %q", tt.code, err, tt.wantErr)
		}
		if got != "" {
			t.Errorf("Classify(%q) returned kind %q with an error", tt.code, got)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	for _, c := range validCodes {
		got, err := CheckDigit(c.code[:len(c.code)-1])
		want := int(c.code[len(c.code)-1] - '0')
		if err != nil || got != want {
			t.Errorf("CheckDigit(%q) = %d, %v; want %d", c.code[:len(c.code)-1], got, err, want)
		}
	}
	// SSCC (18 digits) uses the same algorithm.
	if got, err := CheckDigit("10614141192837465"); err != nil || got != 7 {
		t.Errorf("CheckDigit(SSCC body) = %d, %v; want 7", got, err)
	}
	for _, body := range []string{"", "12a4567", " 1234567", "-123456", strings.Repeat("1", 18)} {
		if _, err := CheckDigit(body); err == nil {
			t.Errorf("CheckDigit(%q): want error", body)
		}
	}
}

// Every single-digit error in a valid code must be detected.
func TestSingleDigitErrorsDetected(t *testing.T) {
	for _, c := range validCodes {
		for i := 0; i < len(c.code); i++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == c.code[i] {
					continue
				}
				mutated := c.code[:i] + string(d) + c.code[i+1:]
				if Valid(mutated) {
					t.Errorf("Valid(%q) = true after changing digit %d of %q", mutated, i, c.code)
				}
			}
		}
	}
}

// CheckDigit makes valid codes of every GTIN length, as demo-data
// generators use it.
func TestCheckDigitMakesValidCodes(t *testing.T) {
	bodies := []string{"1234567", "01234567890", "400638133393", "1061414100041", "0000000", "9999999999999"}
	for _, body := range bodies {
		d, err := CheckDigit(body)
		if err != nil {
			t.Fatalf("CheckDigit(%q): %v", body, err)
		}
		code := body + string(rune('0'+d))
		if !Valid(code) {
			t.Errorf("Valid(%q) = false for a code built with CheckDigit", code)
		}
		if _, err := Classify(code); err != nil {
			t.Errorf("Classify(%q): %v", code, err)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, c := range validCodes {
		f.Add(c.code)
	}
	for _, s := range []string{"", "4006381333932", "SKU-1", " x", "a\tb", "\xff", strings.Repeat("z", 65), "12345678901234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		kind, err := Classify(code)
		valid := Valid(code)
		if err != nil {
			if kind != "" {
				t.Fatalf("Classify(%q) = %q with error %v", code, kind, err)
			}
			if valid {
				t.Fatalf("Valid(%q) = true but Classify failed: %v", code, err)
			}
			return
		}
		switch kind {
		case KindGTIN8, KindGTIN12, KindGTIN13, KindGTIN14:
			if !valid {
				t.Fatalf("Classify(%q) = %q but Valid is false", code, kind)
			}
			d, err := CheckDigit(code[:len(code)-1])
			if err != nil || int(code[len(code)-1]-'0') != d {
				t.Fatalf("Classify(%q) = %q but CheckDigit = %d, %v", code, kind, d, err)
			}
		case KindOther:
			if valid {
				t.Fatalf("Classify(%q) = other but Valid is true", code)
			}
			if n := utf8.RuneCountInString(code); n < 1 || n > MaxOtherLen || !utf8.ValidString(code) {
				t.Fatalf("Classify(%q) = other with %d characters", code, n)
			}
		default:
			t.Fatalf("Classify(%q) = unknown kind %q", code, kind)
		}
	})
}
