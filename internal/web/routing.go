package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
)

// ruleForm is the add/edit form as typed: list conditions are the
// comma-separated text of their inputs.
type ruleForm struct {
	ID                                                                  string
	Name                                                                string
	Active                                                              bool
	SKUs, Tags, ProductTypes, Vendors, Countries, NotCountries, Regions string
	Channels, MinTotal, MaxTotal, ShippingCodes                         string
	Kind                                                                string
	Facilities                                                          []string
	FacilityKinds                                                       []string
	HoldReason, HoldNote                                                string
}

// Has reports whether a facility code or kind is ticked.
func (f ruleForm) Has(list []string, v string) bool { return slices.Contains(list, v) }

// conditionInput is one comma-separated condition input of the form; Name
// is the condition's name in the API ("when.<name>").
type conditionInput struct {
	Name, Label, Hint, Placeholder, Value string
	Errors                                []string
}

func ruleFormOf(r routing.Rule) ruleForm {
	j := func(s []string) string { return strings.Join(s, ", ") }
	f := ruleForm{ID: r.ID, Name: r.Name, Active: r.Active,
		SKUs: j(r.When.SKUs), Tags: j(r.When.Tags), ProductTypes: j(r.When.ProductTypes), Vendors: j(r.When.Vendors),
		Countries: j(r.When.Countries), NotCountries: j(r.When.NotCountries), Regions: j(r.When.Regions), Channels: j(r.When.Channels),
		MinTotal: r.When.MinTotal, MaxTotal: r.When.MaxTotal, ShippingCodes: j(r.When.ShippingCodes),
		Kind: string(r.Then.Kind), Facilities: r.Then.Facilities, HoldReason: string(r.Then.HoldReason), HoldNote: r.Then.HoldNote}
	for _, k := range r.Then.FacilityKinds {
		f.FacilityKinds = append(f.FacilityKinds, string(k))
	}
	return f
}

func ruleFormFrom(r *http.Request) ruleForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return ruleForm{Name: v("name"), Active: v("active") != "",
		SKUs: v("skus"), Tags: v("tags"), ProductTypes: v("product_types"), Vendors: v("vendors"),
		Countries: v("countries"), NotCountries: v("not_countries"), Regions: v("regions"), Channels: v("channels"),
		MinTotal: v("min_total"), MaxTotal: v("max_total"), ShippingCodes: v("shipping_codes"),
		Kind: v("kind"), Facilities: r.PostForm["facility"], FacilityKinds: r.PostForm["facility_kind"],
		HoldReason: v("hold_reason"), HoldNote: v("hold_note")}
}

// rule turns the form into a rule. The form shows the facility part and
// the hold part side by side; only the part of the chosen action counts.
func (f ruleForm) rule() routing.Rule {
	r := routing.Rule{ID: f.ID, Name: f.Name, Active: f.Active,
		When: routing.Conditions{SKUs: splitList(f.SKUs), Tags: splitList(f.Tags), ProductTypes: splitList(f.ProductTypes),
			Vendors: splitList(f.Vendors), Countries: splitList(f.Countries), NotCountries: splitList(f.NotCountries),
			Regions: splitList(f.Regions), Channels: splitList(f.Channels), MinTotal: f.MinTotal, MaxTotal: f.MaxTotal,
			ShippingCodes: splitList(f.ShippingCodes)},
		Then: routing.Action{Kind: routing.ActionKind(f.Kind)}}
	if r.Then.Kind == routing.Hold {
		r.Then.HoldReason, r.Then.HoldNote = order.HoldReason(f.HoldReason), f.HoldNote
		return r
	}
	r.Then.Facilities = slices.Clone(f.Facilities)
	for _, k := range f.FacilityKinds {
		r.Then.FacilityKinds = append(r.Then.FacilityKinds, inventory.FacilityKind(k))
	}
	return r
}

// conditionLabels are the condition inputs, in form order.
var conditionLabels = []struct{ name, label, hint, placeholder string }{
	{"countries", "Destination countries", "Two-letter codes.", "DE, FR"},
	{"not_countries", "Destination not in", "The country is known and is none of these.", "US"},
	{"regions", "Destination regions", "US-CA, or CA for a region of any country.", "US-CA, US-OR"},
	{"skus", "SKUs", "* matches anything, e.g. CUSTOM-*.", "CUSTOM-*"},
	{"product_types", "Product types", "", ""},
	{"vendors", "Vendors", "", ""},
	{"tags", "Order tags", "", "wholesale"},
	{"channels", "Channels", "e.g. shopify, amazon, api, csv.", ""},
	{"shipping_codes", "Shipping methods", "The code the customer chose.", "ups_next_day_air"},
}

func (f ruleForm) value(name string) string {
	switch name {
	case "skus":
		return f.SKUs
	case "tags":
		return f.Tags
	case "product_types":
		return f.ProductTypes
	case "vendors":
		return f.Vendors
	case "countries":
		return f.Countries
	case "not_countries":
		return f.NotCountries
	case "regions":
		return f.Regions
	case "channels":
		return f.Channels
	case "shipping_codes":
		return f.ShippingCodes
	}
	return ""
}

// ruleRow is a rule as the list shows it.
type ruleRow struct {
	routing.Rule
	Place       int
	When, Then  string
	First, Last bool
}

type routingPage struct {
	Rules      []ruleRow
	CanWrite   bool
	Form       ruleForm
	Editing    bool // the form edits Form.ID
	Conditions []conditionInput
	Facilities []inventory.Facility
	Kinds      []choice // facility kinds
	Actions    []choice
	Holds      []choice
	Errors     formErrors
	Problems   []string
	// The "test this order" box.
	Query     string
	QueryErr  string
	Explained *explanation
}

// explanation is routing.Service.Explain's result in facility codes.
type explanation struct {
	Order      order.Order
	Steps      []explainStep
	Lines      []explainLine
	Unroutable []string // SKUs left without a facility
	Hold       string
}

type explainStep struct {
	Name, Summary string
	Position      int
	Effects       []string
}

type explainLine struct {
	SKU        string
	Quantity   int64
	Facilities []string
	Unroutable bool
}

var actionLabels = map[routing.ActionKind]string{
	routing.Only:    "Only these facilities",
	routing.Prefer:  "Prefer these facilities",
	routing.Exclude: "Never these facilities",
	routing.Hold:    "Hold the order",
}

func (s *server) routingService() (*routing.Service, error) {
	if s.d.Routing == nil {
		return nil, errs.E("web.routing", errs.NotExist, "routing rules are not set up in this process")
	}
	return s.d.Routing, nil
}

// ruleWhen sums up a rule's conditions in one line.
func ruleWhen(c routing.Conditions) string {
	var parts []string
	add := func(label string, vs []string) {
		if len(vs) > 0 {
			parts = append(parts, label+" "+strings.Join(vs, ", "))
		}
	}
	add("country", c.Countries)
	add("country not", c.NotCountries)
	add("region", c.Regions)
	add("SKU", c.SKUs)
	add("product type", c.ProductTypes)
	add("vendor", c.Vendors)
	add("tag", c.Tags)
	add("channel", c.Channels)
	add("shipping", c.ShippingCodes)
	if c.MinTotal != "" {
		parts = append(parts, "total ≥ "+c.MinTotal)
	}
	if c.MaxTotal != "" {
		parts = append(parts, "total ≤ "+c.MaxTotal)
	}
	if len(parts) == 0 {
		return "every order"
	}
	return strings.Join(parts, " · ")
}

// ruleThen sums up a rule's action in one line.
func ruleThen(a routing.Action) string {
	if a.Kind == routing.Hold {
		s := "hold: " + holdLabel(a.HoldReason)
		if a.HoldNote != "" {
			s += " (" + a.HoldNote + ")"
		}
		return s
	}
	var named []string
	named = append(named, a.Facilities...)
	for _, k := range a.FacilityKinds {
		named = append(named, "any "+facilityKindLabel(k))
	}
	return string(a.Kind) + " " + strings.Join(named, ", ")
}

func (s *server) routingPage(w http.ResponseWriter, r *http.Request, status int, page routingPage) error {
	rs, err := s.routingService()
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	rules, err := rs.Rules(ctx, p.Tenant.ID)
	if err != nil {
		return err
	}
	slices.SortStableFunc(rules, func(a, b routing.Rule) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
	})
	if page.Facilities, err = s.d.Inventory.ListFacilities(ctx, p.Tenant.ID); err != nil {
		return err
	}
	for i, ru := range rules {
		page.Rules = append(page.Rules, ruleRow{Rule: ru, Place: i + 1, When: ruleWhen(ru.When), Then: ruleThen(ru.Then),
			First: i == 0, Last: i == len(rules)-1})
	}
	page.CanWrite = p.Principal.Can("settings:write")
	for _, k := range []inventory.FacilityKind{inventory.Own, inventory.ThreePL, inventory.Dropship, inventory.Retail} {
		page.Kinds = append(page.Kinds, choice{string(k), facilityKindLabel(k)})
	}
	for _, k := range routing.ActionKinds {
		page.Actions = append(page.Actions, choice{string(k), actionLabels[k]})
	}
	page.Holds = holdChoices()
	if page.Form.Kind == "" {
		page.Form.Kind = string(routing.Only)
	}
	if page.Form.HoldReason == "" {
		page.Form.HoldReason = string(order.OtherHold)
	}
	for _, c := range conditionLabels {
		page.Conditions = append(page.Conditions, conditionInput{Name: c.name, Label: c.label, Hint: c.hint, Placeholder: c.placeholder,
			Value: page.Form.value(c.name), Errors: page.Errors[c.name]})
	}
	title := "Routing rules"
	if page.Editing {
		title = "Edit rule " + page.Form.Name
	}
	return s.render(w, r, status, "routing", &view{Title: title, Area: "settings", Data: page})
}

func (s *server) routingList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	page := routingPage{Form: ruleForm{Active: true}}
	if q := strings.TrimSpace(r.URL.Query().Get("order")); q != "" {
		if err := s.explain(r, &page, q); err != nil {
			return err
		}
	}
	return s.routingPage(w, r, http.StatusOK, page)
}

// explain fills the "test this order" box for an order number or id.
func (s *server) explain(r *http.Request, page *routingPage, q string) error {
	page.Query = q
	if err := need(r, "orders:read"); err != nil {
		page.QueryErr = "Your role cannot look at orders."
		return nil
	}
	svc, err := s.orderService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	o, err := svc.Get(ctx, tenant, q)
	if errs.Is(errs.NotExist, err) {
		var os []order.Order
		os, _, err = svc.List(ctx, tenant, order.Filter{Number: q, Limit: 1}, "")
		if err == nil && len(os) == 0 {
			page.QueryErr = "No order “" + q + "” in this account. Type its number, e.g. #1001, or its id."
			return nil
		}
		if err == nil {
			o = os[0]
		}
	}
	if err != nil {
		if errs.Is(errs.Invalid, err) {
			page.QueryErr = "No order “" + q + "” in this account."
			return nil
		}
		return err
	}
	res, err := s.d.Routing.Explain(ctx, &o)
	if err != nil {
		return err
	}
	fs, err := s.d.Inventory.ListFacilities(ctx, tenant)
	if err != nil {
		return err
	}
	code := map[string]string{}
	for _, f := range fs {
		code[f.ID] = f.Code
	}
	ex := &explanation{Order: o}
	lineName := func(i int) string {
		if i >= 0 && i < len(o.Lines) {
			return fmt.Sprintf("line %d (%s)", i+1, o.Lines[i].SKU)
		}
		return "line " + strconv.Itoa(i+1)
	}
	for _, st := range res.Trace {
		// The summary's own per-line part counts lines from 0; the
		// effects below name them as the order page does.
		head, _, _ := strings.Cut(st.Summary, ";")
		es := explainStep{Name: st.RuleName, Summary: head, Position: st.Position}
		for _, e := range st.Effects {
			var what []string
			if len(e.Removed) > 0 {
				what = append(what, "not "+strings.Join(e.Removed, ", "))
			}
			if len(e.Preferred) > 0 {
				what = append(what, "prefers "+strings.Join(e.Preferred, ", "))
			}
			es.Effects = append(es.Effects, lineName(e.Line)+": "+strings.Join(what, "; "))
		}
		ex.Steps = append(ex.Steps, es)
	}
	for i, lr := range res.Lines {
		l := explainLine{SKU: lr.SKU, Unroutable: lr.Unroutable}
		if i < len(o.Lines) {
			l.Quantity = o.Lines[i].Open()
		}
		for _, id := range lr.Facilities {
			l.Facilities = append(l.Facilities, cmp.Or(code[id], id))
		}
		if lr.Unroutable {
			ex.Unroutable = append(ex.Unroutable, lr.SKU)
		}
		ex.Lines = append(ex.Lines, l)
	}
	if h := res.Hold; h != nil {
		ex.Hold = holdLabel(h.Reason)
		if h.Note != "" {
			ex.Hold += ": " + h.Note
		}
	}
	page.Explained = ex
	return nil
}

func (s *server) routingEdit(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	rs, err := s.routingService()
	if err != nil {
		return err
	}
	ru, err := rs.Rule(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.routingPage(w, r, http.StatusOK, routingPage{Form: ruleFormOf(ru), Editing: true})
}

func (s *server) routingCreate(w http.ResponseWriter, r *http.Request) error {
	return s.routingSave(w, r, "")
}

func (s *server) routingUpdate(w http.ResponseWriter, r *http.Request) error {
	return s.routingSave(w, r, r.PathValue("id"))
}

func (s *server) routingSave(w http.ResponseWriter, r *http.Request, ruleID string) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	rs, err := s.routingService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	form := ruleFormFrom(r)
	form.ID = ruleID
	ru := form.rule()
	if ruleID != "" {
		old, err := rs.Rule(ctx, tenant, ruleID)
		if err != nil {
			return err
		}
		ru.Position = old.Position
	}
	saved, err := rs.Save(ctx, tenant, ru)
	if err != nil {
		fields := errs.Fields(err)
		if len(fields) == 0 {
			return err
		}
		page := routingPage{Form: form, Editing: ruleID != ""}
		page.Errors, page.Problems = ruleFormErrors(fields)
		return s.routingPage(w, r, http.StatusUnprocessableEntity, page)
	}
	if ruleID == "" {
		s.flash(r, "Rule “"+saved.Name+"” added. It applies after the rules above it.")
	} else {
		s.flash(r, "Rule “"+saved.Name+"” saved.")
	}
	http.Redirect(w, r, "/settings/routing", http.StatusSeeOther)
	return nil
}

// ruleFormInputs maps routing.Validate's field names to the form's inputs
// and their labels.
var ruleFormInputs = map[string]string{
	"name": "Name", "then.kind": "Action", "then.facilities": "Facilities", "then.facility_kinds": "Facility kinds",
	"then.hold_reason": "Hold reason", "then.hold_note": "Hold note",
	"when.min_total": "Total at least", "when.max_total": "Total at most",
}

// ruleFormErrors puts each field error beside its input ("when.countries[1]"
// goes to the countries input, naming the entry) and in the summary.
func ruleFormErrors(fields []errs.FieldError) (formErrors, []string) {
	fe := formErrors{}
	var problems []string
	for _, f := range fields {
		key, _, item := strings.Cut(f.Field, "[")
		text := f.Message
		if v, ok := f.Value.(string); ok && item && v != "" {
			text = "“" + v + "” " + text
		}
		label, ok := ruleFormInputs[key]
		input := strings.TrimPrefix(strings.TrimPrefix(key, "when."), "then.")
		if !ok {
			i := slices.IndexFunc(conditionLabels, func(c struct{ name, label, hint, placeholder string }) bool { return "when."+c.name == key })
			if i >= 0 {
				label, ok = conditionLabels[i].label, true
			}
		}
		msg := text + "."
		if !strings.HasPrefix(text, "“") {
			msg = upperFirst(text) + "."
		}
		if !ok {
			fe[""] = append(fe[""], f.Field+": "+msg)
			problems = append(problems, f.Field+": "+text+".")
			continue
		}
		fe[input] = append(fe[input], msg)
		problems = append(problems, label+": "+text+".")
	}
	return fe, problems
}

// routingMove moves a rule one place up or down (Reorder).
func (s *server) routingMove(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	rs, err := s.routingService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx, tenant, ruleID := r.Context(), personFrom(r).Tenant.ID, r.PathValue("id")
	rules, err := rs.Rules(ctx, tenant)
	if err != nil {
		return err
	}
	slices.SortStableFunc(rules, func(a, b routing.Rule) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
	})
	i := slices.IndexFunc(rules, func(ru routing.Rule) bool { return ru.ID == ruleID })
	if i < 0 {
		return errs.E("web.routingMove", errs.NotExist, "routing rule not found")
	}
	j := i - 1
	if r.PostFormValue("direction") == "down" {
		j = i + 1
	}
	if j >= 0 && j < len(rules) {
		rules[i], rules[j] = rules[j], rules[i]
		ids := make([]string, len(rules))
		for k, ru := range rules {
			ids[k] = ru.ID
		}
		if _, err := rs.Reorder(ctx, tenant, ids); err != nil {
			return err
		}
		s.flash(r, "Rule “"+rules[j].Name+"” now applies "+ordinal(j+1)+".")
	}
	http.Redirect(w, r, "/settings/routing", http.StatusSeeOther)
	return nil
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

func (s *server) routingActivate(w http.ResponseWriter, r *http.Request) error {
	return s.routingSetActive(w, r, true)
}

func (s *server) routingDeactivate(w http.ResponseWriter, r *http.Request) error {
	return s.routingSetActive(w, r, false)
}

func (s *server) routingSetActive(w http.ResponseWriter, r *http.Request, on bool) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	rs, err := s.routingService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	ru, err := rs.Rule(ctx, tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	ru.Active = on
	if _, err := rs.Save(ctx, tenant, ru); err != nil {
		if errs.Is(errs.Invalid, err) {
			// A facility the rule names was removed since: the rule has to
			// be edited before it can change.
			return errs.E("web.routingSetActive", errs.Invalid, "rule “"+ru.Name+"” no longer passes its checks; edit it first", err)
		}
		return err
	}
	if on {
		s.flash(r, "Rule “"+ru.Name+"” is active: new orders are routed with it.")
	} else {
		s.flash(r, "Rule “"+ru.Name+"” is inactive: orders are routed as if it were not there.")
	}
	http.Redirect(w, r, "/settings/routing", http.StatusSeeOther)
	return nil
}

func (s *server) routingDelete(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	rs, err := s.routingService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	ru, err := rs.Rule(ctx, tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := rs.Delete(ctx, tenant, ru.ID); err != nil {
		return err
	}
	s.flash(r, "Rule “"+ru.Name+"” deleted. Orders already routed keep their facilities.")
	http.Redirect(w, r, "/settings/routing", http.StatusSeeOther)
	return nil
}
