// Package csvcell keeps the cells of the CSV files Waybill writes safe to
// open in a spreadsheet, and reads them back exactly.
package csvcell

import "strings"

// A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage
// return before one) as a formula: a CSV from elsewhere can carry
// =HYPERLINK(…) into someone's spreadsheet. Exports put a single quote in
// front of such cells, which spreadsheets show as text, and imports take
// it off again. A value that already starts with quotes before a formula
// character gets one more, so every value comes back exactly.

func formulaStart(s string) bool {
	t := strings.TrimLeft(s, "'")
	if t == "" {
		return false
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Neutralize makes a cell safe to open in a spreadsheet.
func Neutralize(s string) string {
	if formulaStart(s) {
		return "'" + s
	}
	return s
}

// Restore undoes Neutralize.
func Restore(s string) string {
	if len(s) > 1 && s[0] == '\'' && formulaStart(s) {
		return s[1:]
	}
	return s
}
