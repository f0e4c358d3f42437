package httpapi

import (
	"encoding/base64"

	"github.com/waybill/waybill/internal/errs"
)

// PageParams are the query parameters of every list.
type PageParams struct {
	Cursor string `query:"cursor" doc:"Opaque cursor from the previous page's next_cursor."`
	Limit  int    `query:"limit" minimum:"1" maximum:"250" default:"50" doc:"Items per page."`
}

// after decodes the cursor into the last id of the previous page.
func (p PageParams) after() (string, error) {
	if p.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || len(b) == 0 || len(b) > 200 {
		return "", errs.InvalidFields("httpapi.cursor", errs.FieldError{Field: "query.cursor", Message: "not a cursor this API gave out", Value: p.Cursor})
	}
	return string(b), nil
}

func encodeCursor(lastID string) string {
	if lastID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}
