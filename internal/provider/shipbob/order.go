package shipbob

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/provider"
)

// createOrder is the body of POST /2025-07/order (Orders.CreateOrderModel),
// with the products given by reference_id.
type createOrder struct {
	ReferenceID    string      `json:"reference_id"`
	OrderNumber    string      `json:"order_number,omitempty"`
	Type           string      `json:"type"`
	ShippingMethod string      `json:"shipping_method"`
	PurchaseDate   time.Time   `json:"purchase_date,omitzero"`
	Recipient      recipient   `json:"recipient"`
	Products       []orderLine `json:"products"`
}

type recipient struct {
	Name        string  `json:"name"`
	Address     address `json:"address"`
	Email       string  `json:"email,omitempty"`
	PhoneNumber string  `json:"phone_number,omitempty"`
}

type address struct {
	Address1    string `json:"address1"`
	Address2    string `json:"address2,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
	City        string `json:"city"`
	State       string `json:"state,omitempty"`
	Country     string `json:"country"`
	ZipCode     string `json:"zip_code,omitempty"`
}

type orderLine struct {
	ReferenceID string `json:"reference_id"`
	Quantity    int64  `json:"quantity"`
}

// maxReference is the longest reference_id ShipBob takes.
const maxReference = 300

// newOrder builds ShipBob's order for r, reporting every field ShipBob
// would refuse. Lines of one SKU become one product line.
func (c *Client) newOrder(r provider.Request) (createOrder, error) {
	var fe errs.FieldList
	switch {
	case r.ID == "":
		fe.Add("id", "is required", r.ID)
	case len(r.ID) > maxReference:
		fe.Add("id", fmt.Sprintf("must be at most %d bytes for ShipBob", maxReference), r.ID)
	case strings.ContainsAny(r.ID, ",\r\n"):
		// ShipBob's ReferenceIds filter is comma separated.
		fe.Add("id", "must not contain a comma or line break", r.ID)
	}
	speed := r.Speed
	if speed == "" {
		speed = provider.Standard
	}
	method, ok := c.methods[speed]
	if !ok {
		fe.Add("speed", "is not a speed ShipBob is set up for", string(r.Speed))
	}
	a := r.ShipTo
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = strings.TrimSpace(a.Company)
	}
	if name == "" {
		fe.Add("ship_to.name", "is required (or a company)", a.Name)
	}
	if strings.TrimSpace(a.Line1) == "" {
		fe.Add("ship_to.line1", "is required", a.Line1)
	}
	if strings.TrimSpace(a.City) == "" {
		fe.Add("ship_to.city", "is required", a.City)
	}
	country := strings.ToUpper(strings.TrimSpace(a.Country))
	if len(country) != 2 || strings.Trim(country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		fe.Add("ship_to.country", "must be an ISO 3166-1 alpha-2 code", a.Country)
	}
	var lines []orderLine
	at := map[string]int{}
	if len(r.Lines) == 0 {
		fe.Add("lines", "must not be empty", nil)
	}
	for i, l := range r.Lines {
		switch {
		case strings.TrimSpace(l.SKU) == "":
			fe.Add(fmt.Sprintf("lines[%d].sku", i), "is required", l.SKU)
			continue
		case l.Quantity < 1:
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "must be at least 1", l.Quantity)
			continue
		}
		j, seen := at[l.SKU]
		if !seen {
			j = len(lines)
			at[l.SKU] = j
			lines = append(lines, orderLine{ReferenceID: l.SKU})
		}
		if lines[j].Quantity > math.MaxInt32-l.Quantity {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "is more than ShipBob takes", l.Quantity)
			continue
		}
		lines[j].Quantity += l.Quantity
	}
	if err := fe.Err("shipbob.Submit"); err != nil {
		return createOrder{}, err
	}
	o := createOrder{
		ReferenceID:    r.ID,
		OrderNumber:    r.OrderNumber,
		Type:           "DTC",
		ShippingMethod: method,
		Recipient: recipient{
			Name: name,
			Address: address{
				Address1:    strings.TrimSpace(a.Line1),
				Address2:    strings.TrimSpace(a.Line2),
				CompanyName: strings.TrimSpace(a.Company),
				City:        strings.TrimSpace(a.City),
				State:       strings.TrimSpace(a.Region),
				Country:     country,
				ZipCode:     strings.TrimSpace(a.PostalCode),
			},
			Email:       strings.TrimSpace(r.Email),
			PhoneNumber: strings.TrimSpace(a.Phone),
		},
		Products: lines,
	}
	if !r.OrderedAt.IsZero() {
		o.PurchaseDate = r.OrderedAt.UTC()
	}
	return o, nil
}
