package mail

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

// Kind names a notification, and so its pair of templates.
type Kind string

const (
	NewOrder        Kind = "new_order"        // to the merchant: one order or a batch (NewOrderData)
	LowStock        Kind = "low_stock"        // to the merchant: items to reorder (LowStockData)
	OrderShipped    Kind = "order_shipped"    // to the customer: a shipment is on its way (OrderShippedData)
	WebhookDisabled Kind = "webhook_disabled" // to the owner: an endpoint kept failing (WebhookDisabledData)
	// to the merchant: a 3PL or supplier refused a fulfilment request (FulfillmentRejectedData)
	FulfillmentRejected Kind = "fulfillment_rejected"
)

// NewOrderData is the data of a NewOrder notification; several orders make
// one e-mail when the sender batches them.
type NewOrderData struct {
	TenantName   string
	DashboardURL string
	Orders       []OrderSummary // at least one
}

// OrderSummary is one order in a NewOrder notification.
type OrderSummary struct {
	Number   string // "1001" or "#1001"
	Customer string
	Total    string // formatted, e.g. "USD 59.00"
	Lines    int
	URL      string // the order in the dashboard
}

// LowStockData is the data of a LowStock notification.
type LowStockData struct {
	TenantName   string
	DashboardURL string
	Items        []LowStockItem // at least one
}

// LowStockItem is one SKU at one facility that is running low.
type LowStockItem struct {
	SKU          string
	Name         string
	Facility     string
	Available    int64
	DaysOfCover  *float64 // nil when nothing sells
	LeadTimeDays int
	Reason       string // why it is low, in a sentence
}

// OrderShippedData is the data of an OrderShipped notification. It goes to
// the customer, so it carries no dashboard link.
type OrderShippedData struct {
	TenantName     string
	OrderNumber    string
	CustomerName   string
	Carrier        string
	Service        string
	TrackingNumber string
	TrackingURL    string
	Lines          []ShippedLine
}

// ShippedLine is one product in a shipment.
type ShippedLine struct {
	Name     string
	Quantity int
}

// WebhookDisabledData is the data of a WebhookDisabled notification.
type WebhookDisabledData struct {
	TenantName   string
	DashboardURL string
	EndpointURL  string
	FailingSince time.Time
	LastError    string
	SettingsURL  string // the endpoint's page, where it can be re-enabled
}

// FulfillmentRejectedData is the data of a FulfillmentRejected
// notification.
type FulfillmentRejectedData struct {
	TenantName   string
	DashboardURL string
	OrderNumber  string
	Facility     string // the facility's code
	Reason       string
	Message      string
	// Rerouted says the units went to other facilities; otherwise the
	// order waits on hold for the merchant.
	Rerouted bool
	Link     string // the fulfilment order's page
}

//go:embed templates
var templateFS embed.FS

// Each kind has templates/KIND.txt, defining "subject" and "body", and
// templates/KIND.html, defining "preheader" and "content"; layout.txt and
// layout.html wrap them and hold the "footer" the merchant's e-mails share
// (a kind may redefine it).
type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var kinds = []Kind{NewOrder, LowStock, OrderShipped, WebhookDisabled, FulfillmentRejected}

// parsedTemplates parses every kind once, on first use; the result never
// changes.
var parsedTemplates = sync.OnceValues(func() (map[Kind]kindTemplates, error) {
	out := make(map[Kind]kindTemplates, len(kinds))
	for _, k := range kinds {
		text, err := texttemplate.New("layout.txt").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.txt", "templates/"+string(k)+".txt")
		if err != nil {
			return nil, err
		}
		html, err := htmltemplate.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+string(k)+".html")
		if err != nil {
			return nil, err
		}
		out[k] = kindTemplates{text, html}
	}
	return out, nil
})

var templateFuncs = map[string]any{
	// orderRef spells an order number the one way: "#1001".
	"orderRef": func(n string) string { return "#" + strings.TrimPrefix(strings.TrimSpace(n), "#") },
	// plural: plural 2 "line" "lines" = "2 lines".
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
	"cover": func(d *float64) string {
		if d == nil {
			return "no recent sales"
		}
		if *d == 1 {
			return "1.0 day"
		}
		return strconv.FormatFloat(*d, 'f', 1, 64) + " days"
	},
	"datetime": func(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04 UTC") },
	// host is the part of a URL a person recognises.
	"host": func(raw string) string {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return u.Host
		}
		return raw
	},
}

// Render fills kind's templates with data, which must be the kind's data
// type (NewOrderData for NewOrder, and so on), as a value or a pointer. The
// HTML is escaped by html/template; the subject is one line.
func Render(kind Kind, data any) (subject, text, html string, err error) {
	op := "mail.Render " + string(kind)
	if err := checkData(kind, data); err != nil {
		return "", "", "", errs.E(op, errs.Invalid, err.Error())
	}
	all, err := parsedTemplates()
	if err != nil {
		return "", "", "", errs.E(op, errs.Internal, "templates do not parse", err)
	}
	t := all[kind]
	var b strings.Builder
	if err := t.text.ExecuteTemplate(&b, "subject", data); err != nil {
		return "", "", "", errs.E(op, errs.Internal, err)
	}
	subject = oneLine(b.String())
	b.Reset()
	if err := t.text.Execute(&b, data); err != nil {
		return "", "", "", errs.E(op, errs.Internal, err)
	}
	text = b.String()
	b.Reset()
	if err := t.html.Execute(&b, data); err != nil {
		return "", "", "", errs.E(op, errs.Internal, err)
	}
	return subject, text, b.String(), nil
}

func checkData(kind Kind, data any) error {
	switch kind {
	case NewOrder:
		d, ok := as[NewOrderData](data)
		if !ok {
			return wrongType(kind, NewOrderData{}, data)
		}
		if len(d.Orders) == 0 {
			return fmt.Errorf("needs at least one order")
		}
	case LowStock:
		d, ok := as[LowStockData](data)
		if !ok {
			return wrongType(kind, LowStockData{}, data)
		}
		if len(d.Items) == 0 {
			return fmt.Errorf("needs at least one item")
		}
	case OrderShipped:
		if _, ok := as[OrderShippedData](data); !ok {
			return wrongType(kind, OrderShippedData{}, data)
		}
	case WebhookDisabled:
		if _, ok := as[WebhookDisabledData](data); !ok {
			return wrongType(kind, WebhookDisabledData{}, data)
		}
	case FulfillmentRejected:
		if _, ok := as[FulfillmentRejectedData](data); !ok {
			return wrongType(kind, FulfillmentRejectedData{}, data)
		}
	default:
		return fmt.Errorf("unknown kind of notification %q", string(kind))
	}
	return nil
}

func as[T any](data any) (T, bool) {
	switch d := data.(type) {
	case T:
		return d, true
	case *T:
		if d != nil {
			return *d, true
		}
	}
	var zero T
	return zero, false
}

func wrongType(kind Kind, want, got any) error {
	return fmt.Errorf("%s needs %T data, not %T", kind, want, got)
}
