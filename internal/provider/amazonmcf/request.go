package amazonmcf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/provider"
)

// What we send (Fulfillment Outbound API v2020-07-01 model).

type apiAddress struct {
	Name          string `json:"name"`
	AddressLine1  string `json:"addressLine1"`
	AddressLine2  string `json:"addressLine2,omitempty"`
	AddressLine3  string `json:"addressLine3,omitempty"`
	City          string `json:"city,omitempty"`
	StateOrRegion string `json:"stateOrRegion,omitempty"`
	PostalCode    string `json:"postalCode"`
	CountryCode   string `json:"countryCode"`
	Phone         string `json:"phone,omitempty"`
}

type apiCreateItem struct {
	SellerSKU    string `json:"sellerSku"`
	SellerItemID string `json:"sellerFulfillmentOrderItemId"`
	Quantity     int64  `json:"quantity"`
}

// apiCreateRequest is CreateFulfillmentOrderRequest.
type apiCreateRequest struct {
	MarketplaceID            string          `json:"marketplaceId"`
	SellerFulfillmentOrderID string          `json:"sellerFulfillmentOrderId"`
	DisplayableOrderID       string          `json:"displayableOrderId"`
	DisplayableOrderDate     string          `json:"displayableOrderDate"`
	DisplayableOrderComment  string          `json:"displayableOrderComment"`
	ShippingSpeedCategory    string          `json:"shippingSpeedCategory"`
	DestinationAddress       apiAddress      `json:"destinationAddress"`
	FulfillmentAction        string          `json:"fulfillmentAction"`
	FulfillmentPolicy        string          `json:"fulfillmentPolicy"`
	NotificationEmails       []string        `json:"notificationEmails,omitempty"`
	Items                    []apiCreateItem `json:"items"`
}

// apiPreviewRequest is GetFulfillmentPreviewRequest.
type apiPreviewRequest struct {
	MarketplaceID           string          `json:"marketplaceId"`
	Address                 apiAddress      `json:"address"`
	Items                   []apiCreateItem `json:"items"`
	ShippingSpeedCategories []string        `json:"shippingSpeedCategories"`
}

// Limits of the models: sellerFulfillmentOrderId and displayableOrderId
// are at most 40 characters, displayableOrderComment 750, a notification
// e-mail address 64; an order has at most 100 lines and 250 units.
const (
	maxOrderID = 40
	maxComment = 750
	maxEmail   = 64
	maxItems   = 100
	maxUnits   = 250
	hashSuffix = 8 // hex digits of the SHA-256 in an OrderID that had to change
)

// OrderID is the sellerFulfillmentOrderId Amazon is given for our
// fulfilment order id: the id itself when it is 1 to 40 ASCII letters,
// digits, '-' and '_' (Waybill's ids are). Any other id is made one: every
// other character becomes '-', the result is cut to 31 characters and
// followed by '-' and the first 8 hex digits of the SHA-256 of the original
// id, so the same id always gives the same sellerFulfillmentOrderId and two
// ids the same one only by a one in four billion chance.
//
// The model allows 40 characters; the characters are kept to these because
// the id travels in the path of getFulfillmentOrder and
// cancelFulfillmentOrder, where Amazon is known to mistreat spaces and '+'.
func OrderID(id string) string {
	if id != "" && len(id) <= maxOrderID && plainID(id) {
		return id
	}
	var b strings.Builder
	for _, r := range id {
		if b.Len() == maxOrderID-hashSuffix-1 {
			break
		}
		if r < utf8.RuneSelf && plainID(string(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	sum := sha256.Sum256([]byte(id))
	return b.String() + "-" + hex.EncodeToString(sum[:])[:hashSuffix]
}

func plainID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// displayable makes s fit displayableOrderId's rules: ISO 8859-1
// characters only (others become '-'), no control characters, no two
// spaces in a row, no leading or trailing space, at most max characters.
func displayable(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range strings.TrimSpace(s) {
		if n == max {
			break
		}
		switch {
		case unicode.IsSpace(r):
			if space {
				continue
			}
			space = true
			r = ' '
		case unicode.IsControl(r):
			continue
		case r > unicode.MaxLatin1:
			space = false
			r = '-'
		default:
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// cut keeps the first max characters of s.
func cut(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// speedCategory is shippingSpeedCategory for s; no speed is Standard.
func speedCategory(s provider.Speed) (string, bool) {
	switch s {
	case provider.Standard, "":
		return "Standard", true
	case provider.Expedited:
		return "Expedited", true
	case provider.Priority:
		return "Priority", true
	}
	return "", false
}

// address is a in Amazon's form. The model has a name and three lines: a
// company goes on the first line, before the street (or is the name, when
// there is no person's name).
func address(a provider.Address) apiAddress {
	name, company := strings.TrimSpace(a.Name), strings.TrimSpace(a.Company)
	if name == "" {
		name, company = company, ""
	}
	var lines []string
	for _, l := range []string{company, a.Line1, a.Line2} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "", "", "")
	return apiAddress{
		Name: name, AddressLine1: lines[0], AddressLine2: lines[1], AddressLine3: lines[2],
		City: strings.TrimSpace(a.City), StateOrRegion: strings.TrimSpace(a.Region),
		PostalCode: strings.TrimSpace(a.PostalCode), CountryCode: strings.ToUpper(strings.TrimSpace(a.Country)),
		Phone: strings.TrimSpace(a.Phone),
	}
}

// items are r's lines as Amazon's items, numbered 1, 2, … as their
// sellerFulfillmentOrderItemId (unique in the order even when a SKU comes
// twice). Lines we cannot send are Invalid; an order beyond Amazon's
// documented 100 lines or 250 units is a *provider.RejectedError.
func items(op string, r provider.Request) ([]apiCreateItem, error) {
	var fe errs.FieldList
	if len(r.Lines) == 0 {
		fe.Add("lines", "must not be empty", 0)
	}
	var units int64
	out := make([]apiCreateItem, 0, len(r.Lines))
	for i, l := range r.Lines {
		sku := strings.TrimSpace(l.SKU)
		if sku == "" {
			fe.Add(fmt.Sprintf("lines[%d].sku", i), "is required", l.SKU)
		}
		if l.Quantity < 1 {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "must be at least 1", l.Quantity)
		}
		units += max(l.Quantity, 0)
		out = append(out, apiCreateItem{SellerSKU: sku, SellerItemID: strconv.Itoa(i + 1), Quantity: l.Quantity})
	}
	if _, ok := speedCategory(r.Speed); !ok {
		fe.Add("speed", "must be standard, expedited or priority", string(r.Speed))
	}
	if err := fe.Err(op); err != nil {
		return nil, err
	}
	if len(out) > maxItems || units > maxUnits {
		return nil, errs.E(op, errs.Invalid, &provider.RejectedError{
			Reason: fmt.Sprintf("Amazon takes at most %d lines and %d units in an order; this one has %d lines and %d units", maxItems, maxUnits, len(out), units),
		})
	}
	return out, nil
}

// createRequest is the createFulfillmentOrder body for r: see the package
// documentation for the choices. now is the order date when r has none.
func createRequest(r provider.Request, marketplace string, now time.Time) (apiCreateRequest, error) {
	const op = "amazonmcf.Submit"
	if strings.TrimSpace(r.ID) == "" {
		return apiCreateRequest{}, errs.InvalidFields(op, errs.FieldError{Field: "id", Message: "is required"})
	}
	its, err := items(op, r)
	if err != nil {
		return apiCreateRequest{}, err
	}
	id := OrderID(strings.TrimSpace(r.ID))
	shown := displayable(r.OrderNumber, maxOrderID)
	if shown == "" {
		shown = id
	}
	comment := cut(strings.TrimSpace(r.Note), maxComment)
	if comment == "" {
		comment = "Order " + shown
	}
	at := r.OrderedAt
	if at.IsZero() {
		at = now
	}
	speed, _ := speedCategory(r.Speed)
	req := apiCreateRequest{
		MarketplaceID:            marketplace,
		SellerFulfillmentOrderID: id,
		DisplayableOrderID:       shown,
		DisplayableOrderDate:     at.UTC().Format(time.RFC3339),
		DisplayableOrderComment:  comment,
		ShippingSpeedCategory:    speed,
		DestinationAddress:       address(r.ShipTo),
		FulfillmentAction:        "Ship",
		FulfillmentPolicy:        "FillOrKill",
		Items:                    its,
	}
	if e := strings.TrimSpace(r.Email); e != "" && len(e) <= maxEmail && strings.Contains(e, "@") {
		req.NotificationEmails = []string{e}
	}
	return req, nil
}

// previewRequest is the getFulfillmentPreview body for r, for r's speed.
func previewRequest(r provider.Request, marketplace string) (apiPreviewRequest, error) {
	its, err := items("amazonmcf.Preview", r)
	if err != nil {
		return apiPreviewRequest{}, err
	}
	speed, _ := speedCategory(r.Speed)
	return apiPreviewRequest{MarketplaceID: marketplace, Address: address(r.ShipTo), Items: its, ShippingSpeedCategories: []string{speed}}, nil
}
