package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/money"
)

// The facility page's Connection and Costs sections. A 3PL or dropship
// supplier is connected so Waybill can send it its fulfilment requests:
// how it is reached, the secret that signs what is sent (shown once), the
// API key it answers with (shown once), and its stock pulled on demand.
// Every facility may have a cost profile, and a supplier its prices, for
// Insights → Fulfilment costs. Connections are settings (settings:write),
// as is what a facility costs; pulling stock changes it (inventory:write).

var methodLabels = map[dispatch.Method]string{
	dispatch.Callback:  "Waybill's 3PL protocol (signed requests to a callback URL)",
	dispatch.Email:     "E-mail with a purchase order and a portal link",
	dispatch.ShipBob:   "ShipBob",
	dispatch.AmazonMCF: "Amazon Multi-Channel Fulfillment",
}

func methodLabel(m dispatch.Method) string {
	if l, ok := methodLabels[m]; ok {
		return l
	}
	return string(m)
}

// methodsFor lists the methods a facility of kind k can be reached by.
func methodsFor(k inventory.FacilityKind) []choice {
	var ms []dispatch.Method
	switch k {
	case inventory.ThreePL:
		ms = []dispatch.Method{dispatch.Callback, dispatch.ShipBob, dispatch.AmazonMCF}
	case inventory.Dropship:
		ms = []dispatch.Method{dispatch.Email, dispatch.Callback}
	}
	var out []choice
	for _, m := range ms {
		out = append(out, choice{string(m), methodLabel(m)})
	}
	return out
}

// connected reports whether a facility kind is sent requests.
func connected(k inventory.FacilityKind) bool {
	return k == inventory.ThreePL || k == inventory.Dropship
}

// connForm is the connection form as typed. Secrets are never kept: the
// form does not show them back.
type connForm struct {
	Method, CallbackURL, Email string
	FetchStock                 bool
	Settings                   string // key=value, one a line
}

// connSection is the facility page's Connection section.
type connSection struct {
	Show      bool // a 3PL or supplier, and this process connects them
	Connected bool
	Conn      dispatch.Connection // its Secret is never shown from here
	Method    string
	Methods   []choice
	Form      connForm
	Typed     bool // Form is what was sent, after a refusal
	Errors    formErrors
	Problems  []string
	Notice    string
	// Secret is the signing secret, on the page that made or rotated it;
	// KeySecret the 3PL's new API key. Neither is shown again.
	Secret        string
	Rotated       bool
	KeySecret     string
	KeyName       string
	SecretsStored []string
	CanWrite      bool
	CanSync       bool
	OffersStock   bool
}

// costForm is the cost profile form as typed, amounts in the tenant's currency.
type costForm struct {
	PerOrder, PerUnit, StorageUnitMonth, ReceivingUnit, MonthlyFixed string
}

// costSection is the facility page's Costs section.
type costSection struct {
	Show          bool
	Currency      string
	HasProfile    bool
	OtherCurrency string // the saved profile's currency, when not the tenant's
	Form          costForm
	Typed         bool
	Errors        formErrors
	Dropship      bool
	Prices        string // SKU,price lines
	PricesTyped   bool
	PriceErrors   []string
	PriceCount    int
	CanWrite      bool
}

// fillConnection completes the Connection section of facility f.
func (s *server) fillConnection(r *http.Request, f inventory.Facility, c *connSection) error {
	p := personFrom(r)
	if s.d.Dispatch == nil || !connected(f.Kind) || !p.Principal.Can("settings:read") {
		return nil
	}
	c.Show = true
	c.Methods = methodsFor(f.Kind)
	c.CanWrite = p.Principal.Can("settings:write")
	conn, err := s.d.Dispatch.Connection(r.Context(), p.Tenant.ID, f.ID)
	switch {
	case err == nil:
		c.Connected, c.Conn, c.Method = true, conn, methodLabel(conn.Method)
		c.Conn.Secret = ""
		for k := range conn.Secrets {
			c.SecretsStored = append(c.SecretsStored, k)
		}
		slices.Sort(c.SecretsStored)
		c.OffersStock = conn.Provider() || (conn.Method == dispatch.Callback && conn.FetchStock)
		c.CanSync = c.OffersStock && p.Principal.Can("inventory:write")
	case !errs.Is(errs.NotExist, err):
		return err
	}
	if !c.Typed {
		c.Form = connForm{Method: c.Methods[0].Value}
		if c.Connected {
			c.Form = connForm{Method: string(conn.Method), CallbackURL: conn.CallbackURL, Email: conn.Email, FetchStock: conn.FetchStock,
				Settings: formatSettings(conn.Settings)}
		}
	}
	return nil
}

// fillCosts completes the Costs section of facility f.
func (s *server) fillCosts(r *http.Request, f inventory.Facility, c *costSection) error {
	p := personFrom(r)
	if s.d.Costs == nil || !p.Principal.Can("analytics:read") {
		return nil
	}
	ctx := r.Context()
	c.Show, c.Currency, c.Dropship = true, p.Tenant.Currency, f.Kind == inventory.Dropship
	c.CanWrite = p.Principal.Can("settings:write")
	ps, err := s.d.Costs.Profiles(ctx, p.Tenant.ID)
	if err != nil {
		return err
	}
	if pr, ok := ps[f.ID]; ok {
		c.HasProfile = true
		if pr.Currency != c.Currency {
			c.OtherCurrency = pr.Currency
		}
		if !c.Typed {
			a := func(v int64) string { return money.Amount{Minor: v, Currency: pr.Currency}.String() }
			c.Form = costForm{PerOrder: a(pr.PerOrder), PerUnit: a(pr.PerUnit), StorageUnitMonth: a(pr.StorageUnitMonth),
				ReceivingUnit: a(pr.ReceivingUnit), MonthlyFixed: a(pr.MonthlyFixed)}
		}
	}
	if c.Dropship {
		cs, err := s.d.Costs.SupplierCosts(ctx, p.Tenant.ID, f.ID)
		if err != nil {
			return err
		}
		c.PriceCount = len(cs)
		if !c.PricesTyped {
			var lines []string
			for _, sc := range cs {
				lines = append(lines, sc.SKU+","+money.Amount{Minor: sc.UnitCost, Currency: sc.Currency}.String())
			}
			slices.Sort(lines)
			c.Prices = strings.Join(lines, "\n")
		}
	}
	return nil
}

// formatSettings writes provider settings as key=value lines, values that
// are not text as JSON.
func formatSettings(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		v, ok := m[k].(string)
		if !ok {
			j, _ := json.Marshal(m[k])
			v = string(j)
		}
		b.WriteString(k + "=" + v + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// parseSettings reads key=value lines: blank lines are skipped, a value
// that is a JSON object or list is read as one. Problems name the line.
func parseSettings(text string) (map[string]any, []string) {
	var problems []string
	out := map[string]any{}
	seen := map[string]int{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n := i + 1
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			problems = append(problems, fmt.Sprintf("Line %d: write key=value.", n))
			continue
		}
		if first, dup := seen[k]; dup {
			problems = append(problems, fmt.Sprintf("Line %d: %s is given on line %d already.", n, k, first))
			continue
		}
		seen[k] = n
		var val any = v
		if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			var j any
			if err := json.Unmarshal([]byte(v), &j); err != nil {
				problems = append(problems, fmt.Sprintf("Line %d: the value of %s starts like JSON but is not valid JSON.", n, k))
				continue
			}
			val = j
		}
		out[k] = val
	}
	if len(out) == 0 {
		out = nil
	}
	return out, problems
}

// secretish reports whether a provider's setting name is a credential.
func secretish(name string) bool {
	for _, w := range []string{"secret", "token", "password", "key"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

var connFieldLabels = map[string]string{"method": "Method", "callback_url": "Callback URL", "email": "Supplier e-mail", "fetch_stock": "Fetch stock"}

// facilityFor reads the facility of the URL for a change of its sections.
func (s *server) facilityFor(w http.ResponseWriter, r *http.Request, scope auth.Scope) (inventory.Facility, error) {
	if err := need(r, scope); err != nil {
		return inventory.Facility{}, err
	}
	if err := parseForm(w, r); err != nil {
		return inventory.Facility{}, err
	}
	return s.d.Inventory.Facility(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
}

func (s *server) dispatchService() (*dispatch.Service, error) {
	if s.d.Dispatch == nil {
		return nil, errs.E("web.connection", errs.NotExist, "facility connections are not set up in this process")
	}
	return s.d.Dispatch, nil
}

// connectionFor is the start of every connection action: the dispatcher
// and the facility of the request, which the person may change with scope.
func (s *server) connectionFor(w http.ResponseWriter, r *http.Request, scope auth.Scope) (*dispatch.Service, inventory.Facility, error) {
	ds, err := s.dispatchService()
	if err != nil {
		return nil, inventory.Facility{}, err
	}
	f, err := s.facilityFor(w, r, scope)
	return ds, f, err
}

func (s *server) costsService() (*costs.Service, error) {
	if s.d.Costs == nil {
		return nil, errs.E("web.costs", errs.NotExist, "fulfilment costs are not set up in this process")
	}
	return s.d.Costs, nil
}

// connectable refuses a facility that is not a 3PL or supplier.
func connectable(f inventory.Facility) error {
	if !connected(f.Kind) {
		return errs.E("web.connection", errs.Invalid, f.Code+" is your own facility: only 3PLs and dropship suppliers are connected")
	}
	return nil
}

func (s *server) connectionPage(w http.ResponseWriter, r *http.Request, status int, f inventory.Facility, c connSection) error {
	return s.renderFacility(w, r, status, facilityPage{Facility: &f, Form: facilityFormOf(f), BinForm: binForm{Pickable: true}, Conn: &c})
}

func (s *server) connectionSave(w http.ResponseWriter, r *http.Request) error {
	ds, f, err := s.connectionFor(w, r, "settings:write")
	if err != nil {
		return err
	}
	if err := connectable(f); err != nil {
		return err
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := connForm{Method: v("method"), CallbackURL: v("callback_url"), Email: v("email"), FetchStock: v("fetch_stock") != "",
		Settings: strings.TrimSpace(r.PostFormValue("settings"))}
	c := connSection{Form: form, Typed: true, Errors: formErrors{}}
	settings, problems := parseSettings(form.Settings)
	secrets, sproblems := parseSettings(r.PostFormValue("secrets"))
	for _, p := range problems {
		c.Errors["settings"] = append(c.Errors["settings"], p)
		c.Problems = append(c.Problems, "Provider settings: "+p)
	}
	for _, p := range sproblems {
		c.Errors["secrets"] = append(c.Errors["secrets"], p)
		c.Problems = append(c.Problems, "Provider secrets: "+p)
	}
	if len(c.Problems) > 0 {
		return s.connectionPage(w, r, http.StatusUnprocessableEntity, f, c)
	}
	conn, made, err := ds.Connect(r.Context(), personFrom(r).Tenant.ID, f.ID, dispatch.ConnectionInput{Method: dispatch.Method(form.Method),
		CallbackURL: form.CallbackURL, Email: form.Email, FetchStock: form.FetchStock, Settings: settings, Secrets: secrets})
	if err != nil {
		fields := errs.Fields(err)
		if len(fields) == 0 {
			return err
		}
		for _, fe := range fields {
			key, label := fe.Field, connFieldLabels[fe.Field]
			msg := fe.Message
			if label == "" {
				// A provider's own setting or credential, named in its textarea.
				key, label = "settings", "Provider settings"
				if _, inSettings := settings[fe.Field]; !inSettings {
					if _, inSecrets := secrets[fe.Field]; inSecrets || secretish(fe.Field) {
						key, label = "secrets", "Provider secrets"
					}
				}
				msg = fe.Field + " " + msg
			}
			c.Errors[key] = append(c.Errors[key], upperFirst(msg)+".")
			c.Problems = append(c.Problems, label+": "+msg+".")
		}
		return s.connectionPage(w, r, http.StatusUnprocessableEntity, f, c)
	}
	if s.d.Wake != nil {
		s.d.Wake() // requests waiting for the connection go now
	}
	if made {
		return s.connectionPage(w, r, http.StatusOK, f, connSection{Secret: conn.Secret})
	}
	s.flash(r, "Connection of "+f.Code+" saved.")
	http.Redirect(w, r, "/settings/facilities/"+f.ID+"#connection", http.StatusSeeOther)
	return nil
}

func (s *server) connectionRotate(w http.ResponseWriter, r *http.Request) error {
	ds, f, err := s.connectionFor(w, r, "settings:write")
	if err != nil {
		return err
	}
	conn, err := ds.RotateSecret(r.Context(), personFrom(r).Tenant.ID, f.ID)
	if err != nil {
		return err
	}
	return s.connectionPage(w, r, http.StatusOK, f, connSection{Secret: conn.Secret, Rotated: true})
}

func (s *server) connectionDisconnect(w http.ResponseWriter, r *http.Request) error {
	ds, f, err := s.connectionFor(w, r, "settings:write")
	if err != nil {
		return err
	}
	if err := ds.Disconnect(r.Context(), personFrom(r).Tenant.ID, f.ID); err != nil {
		return err
	}
	s.flash(r, f.Code+" is disconnected. Its requests wait until it is connected again, or you fulfil them by hand.")
	http.Redirect(w, r, "/settings/facilities/"+f.ID+"#connection", http.StatusSeeOther)
	return nil
}

func (s *server) connectionAPIKey(w http.ResponseWriter, r *http.Request) error {
	_, f, err := s.connectionFor(w, r, "settings:write")
	if err != nil {
		return err
	}
	if err := connectable(f); err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = f.Code + " fulfilment"
	}
	k, secret, err := s.d.Auth.CreateFacilityKey(r.Context(), personFrom(r).Tenant.ID, name, f.ID)
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			c := connSection{Errors: formErrors{"key_name": {upperFirst(fields[0].Message) + "."}}}
			return s.connectionPage(w, r, http.StatusUnprocessableEntity, f, c)
		}
		return err
	}
	return s.connectionPage(w, r, http.StatusOK, f, connSection{KeySecret: secret, KeyName: k.Name})
}

func (s *server) connectionSyncStock(w http.ResponseWriter, r *http.Request) error {
	ds, f, err := s.connectionFor(w, r, "inventory:write")
	if err != nil {
		return err
	}
	res, err := ds.SyncStock(r.Context(), personFrom(r).Tenant.ID, f.ID)
	if err != nil {
		status := 0
		switch errs.KindOf(err) {
		case errs.NotExist:
			status = http.StatusConflict
			err = errs.E("web.connectionSyncStock", errs.Conflict, f.Code+" is not connected")
		case errs.Invalid, errs.Conflict:
			status = http.StatusUnprocessableEntity
		case errs.Transient:
			status = http.StatusBadGateway
		default:
			return err
		}
		return s.connectionPage(w, r, status, f, connSection{Notice: "Stock was not synced: " + userMessage(err, "the 3PL did not answer") + "."})
	}
	s.flash(r, fmt.Sprintf("Stock of %s synced: %d SKU%s reported, %d unknown to the catalogue, %d changed.",
		f.Code, res.Reported, plural(int64(res.Reported)), res.Unknown, res.Changed))
	http.Redirect(w, r, "/settings/facilities/"+f.ID+"#connection", http.StatusSeeOther)
	return nil
}

// ---------- costs ----------

var costFieldLabels = map[string]string{"per_order": "Per order", "per_unit": "Per unit", "storage_unit_month": "Storage per unit per month",
	"receiving_unit": "Receiving per unit", "monthly_fixed": "Fixed per month", "currency": "Currency"}

func (s *server) costsPage(w http.ResponseWriter, r *http.Request, status int, f inventory.Facility, c costSection) error {
	return s.renderFacility(w, r, status, facilityPage{Facility: &f, Form: facilityFormOf(f), BinForm: binForm{Pickable: true}, Costs: &c})
}

func (s *server) costProfileSave(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.costsService()
	if err != nil {
		return err
	}
	f, err := s.facilityFor(w, r, "settings:write")
	if err != nil {
		return err
	}
	cur := personFrom(r).Tenant.Currency
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := costForm{PerOrder: v("per_order"), PerUnit: v("per_unit"), StorageUnitMonth: v("storage_unit_month"), ReceivingUnit: v("receiving_unit"),
		MonthlyFixed: v("monthly_fixed")}
	p := costs.Profile{FacilityID: f.ID, TenantID: f.TenantID, Currency: cur}
	c := costSection{Form: form, Typed: true, Errors: formErrors{}}
	for _, x := range []struct {
		name, text string
		into       *int64
	}{{"per_order", form.PerOrder, &p.PerOrder}, {"per_unit", form.PerUnit, &p.PerUnit}, {"storage_unit_month", form.StorageUnitMonth, &p.StorageUnitMonth},
		{"receiving_unit", form.ReceivingUnit, &p.ReceivingUnit}, {"monthly_fixed", form.MonthlyFixed, &p.MonthlyFixed}} {
		if x.text == "" {
			continue
		}
		a, err := money.Parse(x.text, cur)
		if err != nil {
			c.Errors[x.name] = append(c.Errors[x.name], "Must be an amount in "+cur+", such as "+money.Amount{Minor: 1250, Currency: cur}.String()+".")
			continue
		}
		*x.into = a.Minor
	}
	if len(c.Errors) == 0 {
		if _, err = cs.SaveProfile(r.Context(), p); err != nil {
			fields := errs.Fields(err)
			if len(fields) == 0 {
				return err
			}
			for _, fe := range fields {
				key := fe.Field
				if _, ok := costFieldLabels[key]; !ok {
					key = ""
				}
				c.Errors[key] = append(c.Errors[key], upperFirst(fe.Message)+".")
			}
		}
	}
	if len(c.Errors) > 0 {
		return s.costsPage(w, r, http.StatusUnprocessableEntity, f, c)
	}
	s.flash(r, "Cost profile of "+f.Code+" saved, in "+cur+".")
	http.Redirect(w, r, "/settings/facilities/"+f.ID+"#costs", http.StatusSeeOther)
	return nil
}

// supplierPricesSave records a supplier's prices from "SKU,price" lines,
// all or nothing: any line with a mistake saves none.
func (s *server) supplierPricesSave(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.costsService()
	if err != nil {
		return err
	}
	f, err := s.facilityFor(w, r, "settings:write")
	if err != nil {
		return err
	}
	if f.Kind != inventory.Dropship {
		return errs.E("web.supplierPrices", errs.Invalid, f.Code+" is not a dropship supplier: only suppliers have prices per SKU")
	}
	cur := personFrom(r).Tenant.Currency
	text := r.PostFormValue("prices")
	c := costSection{Prices: text, PricesTyped: true}
	var items []costs.SupplierCost
	var lineOf []int // the text's line number of each item
	seen := map[string]int{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		n := i + 1
		if line == "" {
			continue
		}
		parts := strings.Split(line, ",")
		if len(parts) != 2 {
			c.PriceErrors = append(c.PriceErrors, fmt.Sprintf("Line %d: write SKU,price, such as MUG-1,%s.", n, money.Amount{Minor: 420, Currency: cur}))
			continue
		}
		sku, price := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if first, dup := seen[sku]; dup {
			c.PriceErrors = append(c.PriceErrors, fmt.Sprintf("Line %d: %s has a price on line %d already.", n, sku, first))
			continue
		}
		seen[sku] = n
		a, err := money.Parse(price, cur)
		if err != nil {
			c.PriceErrors = append(c.PriceErrors, fmt.Sprintf("Line %d: “%s” is not an amount in %s.", n, price, cur))
			continue
		}
		items = append(items, costs.SupplierCost{SKU: sku, Currency: cur, UnitCost: a.Minor})
		lineOf = append(lineOf, n)
	}
	if len(c.PriceErrors) == 0 && len(items) == 0 {
		c.PriceErrors = append(c.PriceErrors, "Give at least one line: SKU,price.")
	}
	if len(c.PriceErrors) == 0 {
		if err := cs.SetSupplierCosts(r.Context(), personFrom(r).Tenant.ID, f.ID, items); err != nil {
			fields := errs.Fields(err)
			if len(fields) == 0 {
				return err
			}
			for _, fe := range fields {
				msg := upperFirst(fe.Message) + "."
				if m := indexed.FindStringSubmatch(fe.Field); m != nil {
					if i, _ := strconv.Atoi(m[2]); i < len(items) {
						what := "price"
						if m[3] == "sku" {
							what = "SKU “" + items[i].SKU + "”"
						}
						msg = fmt.Sprintf("Line %d: %s %s.", lineOf[i], what, fe.Message)
					}
				}
				c.PriceErrors = append(c.PriceErrors, msg)
			}
		}
	}
	if len(c.PriceErrors) > 0 {
		return s.costsPage(w, r, http.StatusUnprocessableEntity, f, c)
	}
	s.flash(r, fmt.Sprintf("Saved %d supplier price%s for %s, in %s.", len(items), plural(int64(len(items))), f.Code, cur))
	http.Redirect(w, r, "/settings/facilities/"+f.ID+"#costs", http.StatusSeeOther)
	return nil
}
