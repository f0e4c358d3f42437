package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
)

// productPageSize is how many products one page of the list shows.
const productPageSize = 50

// productFilter is the list's query string, kept in every link it makes.
type productFilter struct {
	Q, Tag, Barcode, Status, Kind, After string
}

func productFilterOf(q url.Values) productFilter {
	f := productFilter{
		Q:       strings.TrimSpace(q.Get("q")),
		Tag:     strings.TrimSpace(q.Get("tag")),
		Barcode: strings.TrimSpace(q.Get("barcode")),
		Status:  q.Get("status"),
		Kind:    q.Get("kind"),
		After:   q.Get("after"),
	}
	if f.Status != "archived" && f.Status != "any" {
		f.Status = "active"
	}
	if f.Kind != "kit" && f.Kind != "product" {
		f.Kind = "any"
	}
	return f
}

func (f productFilter) catalog() catalog.Filter {
	cf := catalog.Filter{Query: f.Q, Tag: f.Tag, Barcode: f.Barcode, Status: catalog.Status(f.Status), After: f.After, Limit: productPageSize}
	switch f.Kind {
	case "kit":
		t := true
		cf.Kits = &t
	case "product":
		no := false
		cf.Kits = &no
	}
	return cf
}

// url returns /products with the filter; the defaults are left out so the
// links stay short.
func (f productFilter) url(after string) string {
	q := url.Values{}
	for _, kv := range [][2]string{{"q", f.Q}, {"tag", f.Tag}, {"barcode", f.Barcode}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	if f.Status != "active" {
		q.Set("status", f.Status)
	}
	if f.Kind != "any" {
		q.Set("kind", f.Kind)
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return "/products"
	}
	return "/products?" + q.Encode()
}

// Filtered reports whether any filter narrows the list.
func (f productFilter) Filtered() bool {
	return f.Q != "" || f.Tag != "" || f.Barcode != "" || f.Status != "active" || f.Kind != "any"
}

type productRow struct {
	ID, SKU, Name, Vendor string
	IsKit, Archived       bool
	Barcodes, Tags        []string
	Price, Weight         string
}

type productListPage struct {
	Filter        productFilter
	Products      []productRow
	NextURL       string
	FirstURL      string
	BarcodeLookup bool // the search text was a scanned barcode
}

var digitsOnly = regexp.MustCompile(`^[0-9]{8,14}$`)

func (s *server) productList(w http.ResponseWriter, r *http.Request) error {
	p := personFrom(r)
	f := productFilterOf(r.URL.Query())
	ps, next, err := s.d.Catalog.List(r.Context(), p.Tenant.ID, f.catalog())
	if err != nil {
		return err
	}
	page := productListPage{Filter: f}
	// A barcode scanner types digits into the focused search box; when the
	// text matches no SKU, name or vendor, look it up as a barcode.
	if len(ps) == 0 && f.After == "" && f.Barcode == "" && digitsOnly.MatchString(f.Q) {
		cf := f.catalog()
		cf.Query, cf.Barcode = "", f.Q
		if ps, next, err = s.d.Catalog.List(r.Context(), p.Tenant.ID, cf); err != nil {
			return err
		}
		page.BarcodeLookup = len(ps) > 0
	}
	for _, pr := range ps {
		row := productRow{ID: pr.ID, SKU: pr.SKU, Name: pr.Name, Vendor: pr.Vendor, IsKit: pr.IsKit(), Archived: pr.ArchivedAt != nil,
			Tags: pr.Tags, Price: formatMoney(pr.Price, pr.Currency), Weight: formatGrams(pr.WeightG)}
		for _, b := range pr.Barcodes {
			row.Barcodes = append(row.Barcodes, b.Code)
		}
		page.Products = append(page.Products, row)
	}
	if next != "" {
		page.NextURL = f.url(next)
	}
	if f.After != "" {
		page.FirstURL = f.url("")
	}
	v := &view{Title: "Products", Area: "products", Data: page}
	w.Header().Add("Vary", "HX-Request")
	// htmx replaces only the results while someone types; a history restore
	// asks for the whole page.
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		return s.renderPart(w, r, "products", "results", v)
	}
	return s.render(w, r, http.StatusOK, "products", v)
}

// productForm is the product form as typed: strings, so that what a person
// wrote comes back unchanged when something in it is wrong.
type productForm struct {
	SKU, Name, Description, Vendor, ProductType string
	Barcodes, Tags, Components                  string
	Currency, Price, Cost                       string
	WeightG, LengthMM, WidthMM, HeightMM        string
	HSCode, CountryOfOrigin                     string
	AllowBackorder, LotTracked, SerialTracked   bool
}

func productFormOf(d catalog.Draft) productForm {
	num := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	f := productForm{
		SKU: d.SKU, Name: d.Name, Description: d.Description, Vendor: d.Vendor, ProductType: d.ProductType,
		Barcodes: strings.Join(d.Barcodes, "\n"), Tags: strings.Join(d.Tags, ", "),
		Currency: d.Currency, Price: d.Price, Cost: d.Cost,
		WeightG: num(d.WeightG), LengthMM: num(d.LengthMM), WidthMM: num(d.WidthMM), HeightMM: num(d.HeightMM),
		HSCode: d.HSCode, CountryOfOrigin: d.CountryOfOrigin,
		AllowBackorder: d.AllowBackorder, LotTracked: d.LotTracked, SerialTracked: d.SerialTracked,
	}
	var lines []string
	for _, c := range d.Components {
		lines = append(lines, c.SKU+" x "+strconv.FormatInt(c.Quantity, 10))
	}
	f.Components = strings.Join(lines, "\n")
	return f
}

// The form's input names are the API's field names, so a field error from
// catalog finds its input without a translation table.
func productFormFrom(r *http.Request) productForm {
	v := r.PostFormValue
	return productForm{
		SKU: v("sku"), Name: v("name"), Description: v("description"), Vendor: v("vendor"), ProductType: v("product_type"),
		Barcodes: v("barcodes"), Tags: v("tags"), Components: v("kit_components"),
		Currency: strings.ToUpper(strings.TrimSpace(v("currency"))), Price: v("price"), Cost: v("cost"),
		WeightG: v("weight_g"), LengthMM: v("length_mm"), WidthMM: v("width_mm"), HeightMM: v("height_mm"),
		HSCode: v("hs_code"), CountryOfOrigin: v("country_of_origin"),
		AllowBackorder: v("allow_backorder") != "", LotTracked: v("lot_tracked") != "", SerialTracked: v("serial_tracked") != "",
	}
}

// splitList splits text on commas and line breaks, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// draft turns the form into a catalog.Draft. Problems only the form can have
// (a weight that is not a number, a kit line that is not "SKU x QTY") come
// back as field errors in the API's spelling, like catalog's own.
func (f productForm) draft() (catalog.Draft, []errs.FieldError) {
	var fe errs.FieldList
	d := catalog.Draft{
		SKU: f.SKU, Name: f.Name, Description: strings.ReplaceAll(f.Description, "\r\n", "\n"), Vendor: f.Vendor, ProductType: f.ProductType,
		Barcodes: splitList(f.Barcodes), Tags: splitList(f.Tags),
		Currency: f.Currency, Price: f.Price, Cost: f.Cost, HSCode: f.HSCode, CountryOfOrigin: f.CountryOfOrigin,
		AllowBackorder: f.AllowBackorder, LotTracked: f.LotTracked, SerialTracked: f.SerialTracked,
	}
	for _, n := range []struct {
		field, text string
		dst         *int64
	}{{"weight_g", f.WeightG, &d.WeightG}, {"length_mm", f.LengthMM, &d.LengthMM}, {"width_mm", f.WidthMM, &d.WidthMM}, {"height_mm", f.HeightMM, &d.HeightMM}} {
		t := strings.TrimSpace(n.text)
		if t == "" {
			continue
		}
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			fe.Add(n.field, "must be a whole number", n.text)
			continue
		}
		*n.dst = v
	}
	i := 0
	for line := range strings.SplitSeq(f.Components, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		c, ok := parseComponent(line)
		if !ok {
			fe.Add(fmt.Sprintf("kit_components[%d]", i), "write each component on its own line as SKU x QUANTITY, e.g. STOVE-TI x 2", line)
		}
		d.Components = append(d.Components, c)
		i++
	}
	return d, fe
}

// parseComponent reads "SKU x 2", "SKU x2", "SKU × 2", "SKU * 2" or a bare
// "SKU" (one of it).
func parseComponent(line string) (catalog.DraftComponent, bool) {
	fields := strings.Fields(line)
	qty := ""
	switch len(fields) {
	case 1:
		return catalog.DraftComponent{SKU: fields[0], Quantity: 1}, true
	case 2:
		qty = strings.TrimLeft(fields[1], "xX×*")
	case 3:
		if !strings.ContainsAny(fields[1], "xX×*") || len([]rune(fields[1])) != 1 {
			return catalog.DraftComponent{SKU: fields[0]}, false
		}
		qty = fields[2]
	default:
		return catalog.DraftComponent{SKU: fields[0]}, false
	}
	n, err := strconv.ParseInt(qty, 10, 64)
	if err != nil {
		return catalog.DraftComponent{SKU: fields[0]}, false
	}
	return catalog.DraftComponent{SKU: fields[0], Quantity: n}, true
}

// formErrors groups field errors by the form input they belong to;
// problems with no input of their own are listed under "".
type formErrors map[string][]string

// Count is the number of problems.
func (e formErrors) Count() int {
	n := 0
	for _, m := range e {
		n += len(m)
	}
	return n
}

var indexed = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?$`)

// productFormErrors maps catalog's field errors ("barcodes[1]",
// "kit_components[0].sku") to the textarea they came from, naming the item
// so a person can find it in their text.
func productFormErrors(fields []errs.FieldError, d catalog.Draft) formErrors {
	out := formErrors{}
	for _, fe := range fields {
		key, msg := fe.Field, fe.Message
		if m := indexed.FindStringSubmatch(fe.Field); m != nil {
			key = m[1]
			i, _ := strconv.Atoi(m[2])
			switch key {
			case "barcodes":
				msg = fmt.Sprintf("Barcode %d%s: %s", i+1, quoteItem(d.Barcodes, i, msg), msg)
			case "tags":
				msg = fmt.Sprintf("Tag %d%s: %s", i+1, quoteItem(d.Tags, i, msg), msg)
			case "kit_components":
				what := ""
				if m[3] == "quantity" {
					what = "quantity "
				} else if m[3] == "sku" && i < len(d.Components) {
					what = "SKU “" + d.Components[i].SKU + "” "
				}
				msg = fmt.Sprintf("Line %d: %s%s", i+1, what, msg)
			}
		}
		switch key {
		case "sku", "name", "description", "vendor", "product_type", "barcodes", "tags", "kit_components",
			"currency", "price", "cost", "weight_g", "length_mm", "width_mm", "height_mm", "hs_code", "country_of_origin":
		case "lot_tracked", "serial_tracked", "allow_backorder":
			key = "tracking"
		default:
			msg = fe.Field + ": " + msg
			key = ""
		}
		out[key] = append(out[key], msg)
	}
	return out
}

// quoteItem names item i of list for a message, unless the message names
// it already.
func quoteItem(list []string, i int, msg string) string {
	if i >= len(list) || strings.Contains(msg, list[i]) {
		return ""
	}
	return " “" + list[i] + "”"
}

type productFormPage struct {
	New     bool
	Product *catalog.Product // nil for a new product
	Form    productForm
	Errors  formErrors
}

// Action is where the form posts.
func (p productFormPage) Action() string {
	if p.New {
		return "/products"
	}
	return "/products/" + p.Product.ID
}

func (s *server) productNew(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "catalog:write"); err != nil {
		return err
	}
	f := productForm{Currency: personFrom(r).Tenant.Currency}
	return s.render(w, r, http.StatusOK, "product", &view{Title: "New product", Area: "products", Data: productFormPage{New: true, Form: f}})
}

func (s *server) productCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "catalog:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	p := personFrom(r)
	form := productFormFrom(r)
	d, fe := form.draft()
	page := productFormPage{New: true, Form: form}
	if len(fe) > 0 {
		return s.productInvalid(w, r, page, fe, d, p.Tenant.Currency)
	}
	created, err := s.d.Catalog.Create(r.Context(), p.Tenant.ID, p.Tenant.Currency, d)
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			return s.renderProductForm(w, r, page, productFormErrors(fields, d))
		}
		return err
	}
	s.flash(r, "Product "+created.SKU+" created.")
	http.Redirect(w, r, "/products/"+created.ID, http.StatusSeeOther)
	return nil
}

// productInvalid shows the form's own problems together with catalog's, so
// one round trip reports everything. A kit line the form could not read is
// reported once, not again by catalog as a bad quantity.
func (s *server) productInvalid(w http.ResponseWriter, r *http.Request, page productFormPage, fe []errs.FieldError, d catalog.Draft, currency string) error {
	unread := map[string]bool{}
	for _, f := range fe {
		unread[f.Field+"."] = true
	}
	if _, err := d.Validate(currency); err != nil {
		for _, f := range errs.Fields(err) {
			if prefix, _, ok := strings.Cut(f.Field, "."); ok && unread[prefix+"."] {
				continue
			}
			fe = append(fe, f)
		}
	}
	return s.renderProductForm(w, r, page, productFormErrors(fe, d))
}

func (s *server) renderProductForm(w http.ResponseWriter, r *http.Request, page productFormPage, fe formErrors) error {
	page.Errors = fe
	title := "New product"
	if !page.New {
		title = page.Product.SKU
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "product", &view{Title: title, Area: "products", Data: page})
}

func (s *server) productEdit(w http.ResponseWriter, r *http.Request) error {
	p := personFrom(r)
	pr, err := s.d.Catalog.Get(r.Context(), p.Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	page := productFormPage{Product: &pr, Form: productFormOf(catalog.DraftOf(pr))}
	return s.render(w, r, http.StatusOK, "product", &view{Title: pr.SKU, Area: "products", Data: page})
}

func (s *server) productUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "catalog:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	p := personFrom(r)
	cur, err := s.d.Catalog.Get(r.Context(), p.Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	form := productFormFrom(r)
	d, fe := form.draft()
	page := productFormPage{Product: &cur, Form: form}
	if len(fe) > 0 {
		return s.productInvalid(w, r, page, fe, d, p.Tenant.Currency)
	}
	// The form carries every field of a Draft, so it replaces the draft whole.
	updated, err := s.d.Catalog.Update(r.Context(), p.Tenant.ID, cur.ID, p.Tenant.Currency, func(old *catalog.Draft) { *old = d })
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			return s.renderProductForm(w, r, page, productFormErrors(fields, d))
		}
		return err
	}
	s.flash(r, "Saved "+updated.SKU+".")
	http.Redirect(w, r, "/products/"+updated.ID, http.StatusSeeOther)
	return nil
}

func (s *server) productArchive(w http.ResponseWriter, r *http.Request) error {
	return s.productSetArchived(w, r, true)
}

func (s *server) productUnarchive(w http.ResponseWriter, r *http.Request) error {
	return s.productSetArchived(w, r, false)
}

func (s *server) productSetArchived(w http.ResponseWriter, r *http.Request, archive bool) error {
	if err := need(r, "catalog:write"); err != nil {
		return err
	}
	p := personFrom(r)
	var pr catalog.Product
	var err error
	if archive {
		pr, err = s.d.Catalog.Archive(r.Context(), p.Tenant.ID, r.PathValue("id"))
	} else {
		pr, err = s.d.Catalog.Unarchive(r.Context(), p.Tenant.ID, r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	if archive {
		s.flash(r, pr.SKU+" archived: it is hidden from the product list and new orders.")
	} else {
		s.flash(r, pr.SKU+" is active again.")
	}
	http.Redirect(w, r, "/products/"+pr.ID, http.StatusSeeOther)
	return nil
}
