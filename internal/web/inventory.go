package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
)

// levelPageSize is how many balances one page of the stock list shows.
const levelPageSize = 50

// levelFilter is the stock list's query string, kept in every link it makes.
// Facility is a facility code: people read and share these URLs.
type levelFilter struct {
	Q, Facility, After string
	Low                bool
}

func levelFilterOf(q url.Values) levelFilter {
	return levelFilter{
		Q:        strings.TrimSpace(q.Get("q")),
		Facility: strings.TrimSpace(q.Get("facility")),
		After:    q.Get("after"),
		Low:      q.Get("low") != "",
	}
}

// url returns /inventory with the filter; empty values are left out.
func (f levelFilter) url(after string) string {
	q := url.Values{}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	if f.Facility != "" {
		q.Set("facility", f.Facility)
	}
	if f.Low {
		q.Set("low", "1")
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return "/inventory"
	}
	return "/inventory?" + q.Encode()
}

// Filtered reports whether any filter narrows the list.
func (f levelFilter) Filtered() bool { return f.Q != "" || f.Facility != "" || f.Low }

// levelRow is one balance as the table shows it.
type levelRow struct {
	ProductID, SKU, Facility              string
	OnHand, Reserved, Available, Incoming int64
	Demand, Cover                         string
	ReorderPoint                          int64
	Low                                   bool
	Reason                                string
}

func levelRowOf(l inventory.LevelWithCover) levelRow {
	return levelRow{ProductID: l.ProductID, SKU: l.SKU, Facility: l.FacilityCode,
		OnHand: l.OnHand, Reserved: l.Reserved, Available: l.Available(), Incoming: l.Incoming,
		Demand: formatDemand(l.Cover.DailyDemand), Cover: formatCover(l.Cover.DaysOfCover),
		ReorderPoint: l.Cover.ReorderPoint, Low: l.Cover.Low, Reason: l.Cover.Reason}
}

type inventoryListPage struct {
	Filter          levelFilter
	Facilities      []inventory.Facility
	Levels          []levelRow
	NextURL         string
	FirstURL        string
	BarcodeLookup   bool // the search text was a scanned barcode
	UnknownFacility bool // the facility in the address does not exist (any more)
}

func (s *server) inventoryList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:read"); err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	f := levelFilterOf(r.URL.Query())
	facs, err := s.d.Inventory.ListFacilities(ctx, tenant)
	if err != nil {
		return err
	}
	page := inventoryListPage{Filter: f, Facilities: facs}
	lf := inventory.LevelFilter{Query: f.Q, LowOnly: f.Low, After: f.After, Limit: levelPageSize}
	if f.Facility != "" {
		page.UnknownFacility = true
		for _, fc := range facs {
			if fc.Code == f.Facility {
				lf.FacilityID, page.UnknownFacility = fc.ID, false
			}
		}
	}
	if !page.UnknownFacility {
		ls, next, err := s.d.Inventory.Levels(ctx, tenant, lf)
		if err != nil {
			return err
		}
		// As on the products page, digits that match no SKU or name are
		// taken for a scanned barcode.
		if len(ls) == 0 && f.After == "" && digitsOnly.MatchString(f.Q) {
			ps, _, err := s.d.Catalog.List(ctx, tenant, catalog.Filter{Barcode: f.Q, Status: catalog.AnyState, Limit: 1})
			if err != nil {
				return err
			}
			if len(ps) == 1 {
				lf.Query, lf.SKU = "", ps[0].SKU
				if ls, next, err = s.d.Inventory.Levels(ctx, tenant, lf); err != nil {
					return err
				}
				page.BarcodeLookup = len(ls) > 0
			}
		}
		for _, l := range ls {
			// The low-stock flag is what the balance's last change saw;
			// demand may have moved since, so the page shows only rows
			// that are low now.
			if f.Low && !l.Cover.Low {
				continue
			}
			page.Levels = append(page.Levels, levelRowOf(l))
		}
		if next != "" {
			page.NextURL = f.url(next)
		}
	}
	if f.After != "" {
		page.FirstURL = f.url("")
	}
	v := &view{Title: "Inventory", Area: "inventory", Data: page}
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		return s.renderPart(w, r, "inventory", "results", v)
	}
	return s.render(w, r, http.StatusOK, "inventory", v)
}

// formatDemand shows average daily demand: a dash when nothing sells.
func formatDemand(d float64) string {
	switch {
	case d <= 0:
		return "—"
	case d < 0.1:
		return "<0.1"
	}
	return strconv.FormatFloat(d, 'f', 1, 64)
}

// formatCover shows days of cover: tenths matter only when it is short.
func formatCover(days *float64) string {
	switch {
	case days == nil:
		return "—"
	case *days >= 100:
		return strconv.FormatFloat(*days, 'f', 0, 64)
	}
	return strconv.FormatFloat(*days, 'f', 1, 64)
}

// formatSigned shows a ledger delta with its sign (a true minus sign, which
// lines up with the plus in tabular figures); zero shows nothing.
func formatSigned(n int64) string {
	switch {
	case n > 0:
		return "+" + strconv.FormatInt(n, 10)
	case n < 0:
		return "−" + strconv.FormatInt(-n, 10)
	}
	return ""
}

func signClass(n int64) string {
	switch {
	case n > 0:
		return "pos"
	case n < 0:
		return "neg"
	}
	return ""
}

var kindLabels = map[inventory.Kind]string{
	inventory.Receive: "Received", inventory.Adjust: "Adjusted", inventory.TransferOut: "Transfer out", inventory.TransferIn: "Transfer in",
	inventory.Count: "Counted", inventory.Reserve: "Reserved", inventory.Release: "Released", inventory.Expire: "Hold expired",
	inventory.Pick: "Picked", inventory.Ship: "Shipped", inventory.Return: "Returned", inventory.WriteOff: "Written off",
}

func kindLabel(k inventory.Kind) string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// actor names who made a change in the ledger, as the API does.
func actor(r *http.Request) string { return "user:" + personFrom(r).User.ID }

// actorNames turns the ledger's "user:…" and "key:…" into e-mail addresses
// and key names.
func (s *server) actorNames(ctx context.Context, tenantID string) (func(string) string, error) {
	users, err := s.d.Auth.ListUsers(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	keys, err := s.d.Auth.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, u := range users {
		names["user:"+u.ID] = u.Email
	}
	for _, k := range keys {
		n := "API key " + k.Prefix + "…"
		if k.Name != "" {
			n = "API key “" + k.Name + "”"
		}
		names["key:"+k.ID] = n
	}
	return func(a string) string {
		if n, ok := names[a]; ok {
			return n
		}
		return a
	}, nil
}

// ---------- one SKU ----------

// balanceRow is a SKU's balance at one facility; HasLevel is false where it
// has never had stock.
type balanceRow struct {
	levelRow
	FacilityName string
	HasLevel     bool
}

type moveRow struct {
	inventory.Movement
	ActorName string
}

// reorderForm is the reorder settings form as typed.
type reorderForm struct {
	LeadTimeDays, SafetyDays, SafetyStock, ReorderPoint string
}

type skuPage struct {
	Product    catalog.Product
	Balances   []balanceRow
	Moves      []moveRow
	NextURL    string
	FirstURL   string
	Reorder    reorderForm
	Errors     formErrors
	Components []catalog.Component // a kit's, which hold its stock
}

func (s *server) inventorySKU(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:read"); err != nil {
		return err
	}
	p, err := s.d.Catalog.Get(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	rs, err := s.d.Inventory.ReorderSettingsOf(r.Context(), p.TenantID, p.ID)
	if err != nil {
		return err
	}
	return s.renderSKU(w, r, http.StatusOK, p, reorderFormOf(rs), nil)
}

func reorderFormOf(rs inventory.ReorderSettings) reorderForm {
	f := reorderForm{LeadTimeDays: strconv.Itoa(rs.LeadTimeDays), SafetyDays: strconv.Itoa(rs.SafetyDays), SafetyStock: strconv.FormatInt(rs.SafetyStock, 10)}
	if rs.ReorderPoint != nil {
		f.ReorderPoint = strconv.FormatInt(*rs.ReorderPoint, 10)
	}
	return f
}

func (s *server) renderSKU(w http.ResponseWriter, r *http.Request, status int, p catalog.Product, rf reorderForm, fe formErrors) error {
	ctx, tenant := r.Context(), p.TenantID
	page := skuPage{Product: p, Reorder: rf, Errors: fe}
	if p.IsKit() {
		page.Components = p.Components
		return s.render(w, r, status, "inventory_sku", &view{Title: p.SKU + " stock", Area: "inventory", Data: page})
	}
	facs, err := s.d.Inventory.ListFacilities(ctx, tenant)
	if err != nil {
		return err
	}
	ls, _, err := s.d.Inventory.Levels(ctx, tenant, inventory.LevelFilter{ProductID: p.ID, Limit: 250})
	if err != nil {
		return err
	}
	byFacility := map[string]inventory.LevelWithCover{}
	for _, l := range ls {
		byFacility[l.FacilityID] = l
	}
	// Every facility that holds or held the SKU, and every active one, so a
	// person sees where it could be too.
	for _, f := range facs {
		l, ok := byFacility[f.ID]
		if !ok && !f.Active {
			continue
		}
		row := balanceRow{FacilityName: f.Name, HasLevel: ok}
		if ok {
			row.levelRow = levelRowOf(l)
		}
		row.Facility, row.ProductID, row.SKU = f.Code, p.ID, p.SKU
		page.Balances = append(page.Balances, row)
	}
	after := r.URL.Query().Get("after")
	ms, next, err := s.d.Inventory.Movements(ctx, tenant, inventory.MovementFilter{ProductID: p.ID, After: after, Limit: 50})
	if err != nil {
		return err
	}
	name, err := s.actorNames(ctx, tenant)
	if err != nil {
		return err
	}
	for _, m := range ms {
		page.Moves = append(page.Moves, moveRow{Movement: m, ActorName: name(m.Actor)})
	}
	base := "/inventory/sku/" + p.ID
	if next != "" {
		page.NextURL = base + "?after=" + url.QueryEscape(next) + "#ledger"
	}
	if after != "" {
		page.FirstURL = base + "#ledger"
	}
	return s.render(w, r, status, "inventory_sku", &view{Title: p.SKU + " stock", Area: "inventory", Data: page})
}

func (s *server) inventoryReorder(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	p, err := s.d.Catalog.Get(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.IsKit() {
		return errs.E("web.inventoryReorder", errs.Invalid, "a kit has no stock of its own: set reorder settings on its components")
	}
	v := r.PostFormValue
	rf := reorderForm{LeadTimeDays: v("lead_time_days"), SafetyDays: v("safety_days"), SafetyStock: v("safety_stock"), ReorderPoint: v("reorder_point")}
	var fe errs.FieldList
	rs := inventory.ReorderSettings{
		LeadTimeDays: int(wholeNumber(&fe, "lead_time_days", rf.LeadTimeDays)),
		SafetyDays:   int(wholeNumber(&fe, "safety_days", rf.SafetyDays)),
		SafetyStock:  wholeNumber(&fe, "safety_stock", rf.SafetyStock),
	}
	if strings.TrimSpace(rf.ReorderPoint) != "" {
		n := wholeNumber(&fe, "reorder_point", rf.ReorderPoint)
		rs.ReorderPoint = &n
	}
	if len(fe) == 0 {
		_, err = s.d.Inventory.SetReorderSettings(r.Context(), p.TenantID, p.SKU, rs)
		fe = errs.Fields(err)
		if err != nil && len(fe) == 0 {
			return err
		}
	}
	if len(fe) > 0 {
		return s.renderSKU(w, r, http.StatusUnprocessableEntity, p, rf, fieldErrors(fe, nil))
	}
	s.flash(r, "Reorder settings of "+p.SKU+" saved.")
	http.Redirect(w, r, "/inventory/sku/"+p.ID, http.StatusSeeOther)
	return nil
}

// wholeNumber reads an optional whole number (empty is 0), adding a field
// error when it is not one.
func wholeNumber(fe *errs.FieldList, field, text string) int64 {
	t := strings.TrimPrefix(strings.TrimSpace(text), "+")
	if t == "" {
		return 0
	}
	t = strings.Replace(t, "−", "-", 1)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		fe.Add(field, "must be a whole number", text)
	}
	return n
}

// lineRef is what a text area's line named, so a message about it can
// quote the SKU or bin.
type lineRef struct{ SKU, Bin string }

// fieldErrors groups field errors under their input's name. Errors about
// indexed lines ("lines[2].sku") go to the lines text area, named by their
// line number.
func fieldErrors(fields []errs.FieldError, lines []lineRef) formErrors {
	out := formErrors{}
	for _, f := range fields {
		key, msg := f.Field, f.Message
		if m := indexed.FindStringSubmatch(f.Field); m != nil {
			i, _ := strconv.Atoi(m[2])
			key = m[1]
			var ref lineRef
			if i < len(lines) {
				ref = lines[i]
			}
			what := ""
			switch {
			case m[3] == "sku" && ref.SKU != "":
				what = "SKU “" + ref.SKU + "” "
			case m[3] == "bin" && ref.Bin != "":
				what = "bin “" + ref.Bin + "” "
			case m[3] != "":
				what = m[3] + " "
			}
			msg = fmt.Sprintf("Line %d: %s%s", i+1, what, msg)
		}
		out[key] = append(out[key], msg)
	}
	return out
}

// refusal returns the message of an insufficient_stock refusal, which the
// stock forms show at the top (it concerns the whole request, not a field).
func refusal(err error) (string, bool) {
	if errs.KindOf(err) != errs.Conflict || errs.CodeOf(err) != inventory.ErrCodeInsufficient {
		return "", false
	}
	return userMessage(err, "There is not enough stock for this."), true
}

// formFacilities lists the facilities for the stock forms' selects: active
// ones first (the first is the default), then inactive ones, which may
// still hold stock to count, write off or move out.
func (s *server) formFacilities(ctx context.Context, tenantID string) ([]inventory.Facility, error) {
	fs, err := s.d.Inventory.ListFacilities(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(fs, func(a, b inventory.Facility) int {
		switch {
		case a.Active == b.Active:
			return 0
		case a.Active:
			return -1
		}
		return 1
	})
	return fs, nil
}

// ---------- adjust ----------

// adjustForm is the adjustment form as typed. The input names are the API's
// field names, so inventory's field errors find their input.
type adjustForm struct {
	SKU, Facility, Bin, Lot, Quantity, Kind, Reason string
}

type kindChoice struct {
	Kind        inventory.Kind
	Label, Hint string
}

var adjustKinds = []kindChoice{
	{inventory.Receive, "Receive", "stock arrived"},
	{inventory.Adjust, "Adjust", "correct, + or −"},
	{inventory.WriteOff, "Write off", "damaged, lost"},
	{inventory.Return, "Return", "back from a customer"},
}

type adjustPage struct {
	Form       adjustForm
	Facilities []inventory.Facility
	Kinds      []kindChoice
	Errors     formErrors
	Refused    string
}

func (s *server) inventoryAdjustForm(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	q := r.URL.Query()
	f := adjustForm{SKU: strings.TrimSpace(q.Get("sku")), Facility: q.Get("facility"), Kind: string(inventory.Adjust)}
	for _, k := range adjustKinds {
		if string(k.Kind) == q.Get("kind") {
			f.Kind = q.Get("kind")
		}
	}
	return s.renderAdjust(w, r, http.StatusOK, adjustPage{Form: f})
}

func (s *server) renderAdjust(w http.ResponseWriter, r *http.Request, status int, page adjustPage) error {
	facs, err := s.formFacilities(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page.Facilities, page.Kinds = facs, adjustKinds
	if page.Form.Facility == "" && page.Errors == nil && len(facs) > 0 && facs[0].Active {
		page.Form.Facility = facs[0].Code
	}
	return s.render(w, r, status, "inventory_adjust", &view{Title: "Adjust stock", Area: "inventory", Data: page})
}

func (s *server) inventoryAdjust(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := r.PostFormValue
	form := adjustForm{SKU: strings.TrimSpace(v("sku")), Facility: v("facility"), Bin: strings.TrimSpace(v("bin")), Lot: strings.TrimSpace(v("lot")),
		Quantity: v("quantity"), Kind: v("kind"), Reason: strings.TrimSpace(v("reason"))}
	page := adjustPage{Form: form}
	var fe errs.FieldList
	qty := wholeNumber(&fe, "quantity", form.Quantity)
	if len(fe) > 0 {
		page.Errors = fieldErrors(fe, nil)
		return s.renderAdjust(w, r, http.StatusUnprocessableEntity, page)
	}
	m, lvl, err := s.d.Inventory.Adjust(r.Context(), personFrom(r).Tenant.ID, inventory.Adjustment{SKU: form.SKU, Facility: form.Facility, Bin: form.Bin,
		Lot: form.Lot, Quantity: qty, Kind: inventory.Kind(form.Kind), Reason: form.Reason, Actor: actor(r)})
	if err != nil {
		if msg, ok := refusal(err); ok {
			page.Refused = msg
			return s.renderAdjust(w, r, http.StatusConflict, page)
		}
		if fields := errs.Fields(err); len(fields) > 0 {
			page.Errors = fieldErrors(fields, nil)
			return s.renderAdjust(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	s.flash(r, fmt.Sprintf("%s %s %s at %s. On hand there is now %d, available %d.",
		kindLabel(m.Kind), formatSigned(m.OnHandDelta), m.SKU, m.FacilityCode, lvl.OnHand, lvl.Available()))
	http.Redirect(w, r, "/inventory/sku/"+m.ProductID, http.StatusSeeOther)
	return nil
}

// ---------- transfers ----------

const transferPageSize = 50

type transferRow struct {
	inventory.Transfer
	From, To   string
	ToHasBins  bool // the destination keeps bins, so receiving may name one
	TotalUnits int64
	InTransit  bool
}

type transferListPage struct {
	Transfers []transferRow
	NextURL   string
	FirstURL  string
	Notice    string // a refused receipt, shown above the table
}

func (s *server) transferList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:read"); err != nil {
		return err
	}
	return s.renderTransfers(w, r, http.StatusOK, "")
}

func (s *server) renderTransfers(w http.ResponseWriter, r *http.Request, status int, notice string) error {
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	after := r.URL.Query().Get("after")
	ts, next, err := s.d.Inventory.ListTransfers(ctx, tenant, after, transferPageSize)
	if err != nil {
		return err
	}
	facs, err := s.d.Inventory.ListFacilities(ctx, tenant)
	if err != nil {
		return err
	}
	byID := map[string]inventory.Facility{}
	for _, f := range facs {
		byID[f.ID] = f
	}
	page := transferListPage{Notice: notice}
	for _, t := range ts {
		to := byID[t.ToFacilityID]
		row := transferRow{Transfer: t, From: byID[t.FromFacilityID].Code, To: to.Code, ToHasBins: to.Kind == inventory.Own || to.Kind == inventory.Retail,
			InTransit: t.Status == inventory.InTransit}
		for _, l := range t.Lines {
			row.TotalUnits += l.Quantity
		}
		page.Transfers = append(page.Transfers, row)
	}
	if next != "" {
		page.NextURL = "/inventory/transfers?after=" + url.QueryEscape(next)
	}
	if after != "" {
		page.FirstURL = "/inventory/transfers"
	}
	return s.render(w, r, status, "transfers", &view{Title: "Transfers", Area: "inventory", Data: page})
}

type transferForm struct {
	From, To, Lines, Note string
}

type transferFormPage struct {
	Form       transferForm
	Facilities []inventory.Facility
	Errors     formErrors
	Refused    string
}

func (s *server) transferNew(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	q := r.URL.Query()
	return s.renderTransferForm(w, r, http.StatusOK, transferFormPage{Form: transferForm{From: q.Get("from"), To: q.Get("to"), Lines: q.Get("lines")}})
}

func (s *server) renderTransferForm(w http.ResponseWriter, r *http.Request, status int, page transferFormPage) error {
	facs, err := s.formFacilities(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page.Facilities = facs
	if page.Form.From == "" && page.Errors == nil && len(facs) > 0 && facs[0].Active {
		page.Form.From = facs[0].Code
	}
	return s.render(w, r, status, "transfer_new", &view{Title: "New transfer", Area: "inventory", Data: page})
}

// lineTexts returns the non-blank lines of a text area, trimmed.
func lineTexts(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (s *server) transferCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := r.PostFormValue
	form := transferForm{From: v("from"), To: v("to"), Lines: v("lines"), Note: strings.TrimSpace(v("note"))}
	page := transferFormPage{Form: form}
	var fe errs.FieldList
	var lines []inventory.ReserveLine
	var refs []lineRef
	for i, text := range lineTexts(form.Lines) {
		c, ok := parseComponent(text)
		if !ok {
			fe.Add(fmt.Sprintf("lines[%d]", i), "write each line as SKU x QUANTITY, e.g. MUG-ENM-WHT x 12", text)
		}
		lines = append(lines, inventory.ReserveLine{SKU: c.SKU, Quantity: c.Quantity})
		refs = append(refs, lineRef{SKU: c.SKU})
	}
	if len([]rune(form.Note)) > 500 {
		fe.Add("note", "must be at most 500 characters", nil)
	}
	if len(fe) > 0 {
		page.Errors = fieldErrors(fe, refs)
		return s.renderTransferForm(w, r, http.StatusUnprocessableEntity, page)
	}
	t, err := s.d.Inventory.CreateTransfer(r.Context(), personFrom(r).Tenant.ID, inventory.TransferRequest{From: form.From, To: form.To, Lines: lines, Note: form.Note, Actor: actor(r)})
	if err != nil {
		if msg, ok := refusal(err); ok {
			page.Refused = msg
			return s.renderTransferForm(w, r, http.StatusConflict, page)
		}
		if fields := errs.Fields(err); len(fields) > 0 {
			page.Errors = fieldErrors(fields, refs)
			return s.renderTransferForm(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	var units int64
	for _, l := range t.Lines {
		units += l.Quantity
	}
	s.flash(r, fmt.Sprintf("Transfer of %d unit%s from %s to %s is on its way. Receive it here when it arrives.", units, plural(units), form.From, form.To))
	http.Redirect(w, r, "/inventory/transfers", http.StatusSeeOther)
	return nil
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (s *server) transferReceive(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	bin := strings.TrimSpace(r.PostFormValue("bin"))
	t, err := s.d.Inventory.ReceiveTransfer(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"), bin, actor(r))
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Invalid, errs.Conflict:
			msg := userMessage(err, "The transfer could not be received.")
			if fields := errs.Fields(err); len(fields) > 0 {
				msg = "Bin “" + bin + "”: " + fields[0].Message + "."
			}
			return s.renderTransfers(w, r, statusOf(err), "Nothing was received. "+msg)
		}
		return err
	}
	where := ""
	if bin != "" {
		where = " into bin " + bin
	}
	s.flash(r, "Transfer received"+where+"; its stock is on hand now ("+strconv.Itoa(len(t.Lines))+" SKU"+plural(int64(len(t.Lines)))+").")
	http.Redirect(w, r, "/inventory/transfers", http.StatusSeeOther)
	return nil
}

// statusOf is the status of a form answered again because of err.
func statusOf(err error) int {
	if errs.KindOf(err) == errs.Conflict {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// ---------- count ----------

type countForm struct {
	Facility, Lines string
}

type countPage struct {
	Form       countForm
	Facilities []inventory.Facility
	Errors     formErrors
	Refused    string
	// After a count is saved: what it found.
	CountID string
	Results []inventory.CountResult
	Changed int
}

func (s *server) countForm(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	return s.renderCount(w, r, http.StatusOK, countPage{Form: countForm{Facility: r.URL.Query().Get("facility")}})
}

func (s *server) renderCount(w http.ResponseWriter, r *http.Request, status int, page countPage) error {
	facs, err := s.formFacilities(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page.Facilities = facs
	if page.Form.Facility == "" && page.Errors == nil && len(facs) > 0 && facs[0].Active {
		page.Form.Facility = facs[0].Code
	}
	return s.render(w, r, status, "count", &view{Title: "Count stock", Area: "inventory", Data: page})
}

// parseCountLine reads "SKU = 12", "SKU @A-01-1-A = 12" or, for a lot,
// "SKU @A-01-1-A #LOT42 = 12".
func parseCountLine(line string) (inventory.CountLine, bool) {
	left, right, ok := strings.Cut(line, "=")
	fields := strings.Fields(left)
	if !ok || len(fields) == 0 {
		return inventory.CountLine{SKU: firstField(line)}, false
	}
	cl := inventory.CountLine{SKU: fields[0]}
	for _, f := range fields[1:] {
		switch {
		case strings.HasPrefix(f, "@") && cl.Bin == "" && len(f) > 1:
			cl.Bin = f[1:]
		case strings.HasPrefix(f, "#") && cl.Lot == "" && len(f) > 1:
			cl.Lot = f[1:]
		default:
			return cl, false
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(right), 10, 64)
	if err != nil {
		return cl, false
	}
	cl.Counted = n
	return cl, true
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (s *server) countRecord(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	form := countForm{Facility: r.PostFormValue("facility"), Lines: r.PostFormValue("lines")}
	page := countPage{Form: form}
	var fe errs.FieldList
	var lines []inventory.CountLine
	var refs []lineRef
	for i, text := range lineTexts(form.Lines) {
		cl, ok := parseCountLine(text)
		if !ok {
			fe.Add(fmt.Sprintf("lines[%d]", i), "write each line as SKU = COUNTED, or SKU @BIN = COUNTED, e.g. MUG-ENM-WHT @A-01-1-A = 24", text)
		}
		lines = append(lines, cl)
		refs = append(refs, lineRef{SKU: cl.SKU, Bin: cl.Bin})
	}
	if len(fe) > 0 {
		page.Errors = fieldErrors(fe, refs)
		return s.renderCount(w, r, http.StatusUnprocessableEntity, page)
	}
	id, res, err := s.d.Inventory.RecordCount(r.Context(), personFrom(r).Tenant.ID, form.Facility, lines, actor(r))
	if err != nil {
		if msg, ok := refusal(err); ok {
			page.Refused = msg
			return s.renderCount(w, r, http.StatusConflict, page)
		}
		if fields := errs.Fields(err); len(fields) > 0 {
			page.Errors = fieldErrors(fields, refs)
			return s.renderCount(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	// The results are shown once, on this answer; the form is ready for the
	// next count at the same facility. Sending it again books nothing new,
	// as the counted figures are then what is expected.
	page = countPage{Form: countForm{Facility: form.Facility}, CountID: id, Results: res}
	for _, c := range res {
		if c.Delta != 0 {
			page.Changed++
		}
	}
	return s.renderCount(w, r, http.StatusOK, page)
}
