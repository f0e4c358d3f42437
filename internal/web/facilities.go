package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
)

// Facilities and their bins are set up under Settings, but changing them
// needs inventory:write rather than settings:write: warehouse staff lay out
// their own bins.

// binPageSize is how many bins one page of a facility shows.
const binPageSize = 100

type facilityKind struct {
	Kind        inventory.FacilityKind
	Label, Hint string
}

var facilityKinds = []facilityKind{
	{inventory.Own, "Own warehouse", "your warehouse or garage; has bins"},
	{inventory.ThreePL, "3PL", "a fulfilment service holding your stock"},
	{inventory.Dropship, "Dropship supplier", "a supplier that ships for you"},
	{inventory.Retail, "Store", "a shop or pickup point; may have bins"},
}

func facilityKindLabel(k inventory.FacilityKind) string {
	for _, fk := range facilityKinds {
		if fk.Kind == k {
			return fk.Label
		}
	}
	return string(k)
}

func hasBins(k inventory.FacilityKind) bool { return k == inventory.Own || k == inventory.Retail }

type facilityRow struct {
	inventory.Facility
	KindLabel string
}

func (s *server) facilityList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:read"); err != nil {
		return err
	}
	fs, err := s.d.Inventory.ListFacilities(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	var rows []facilityRow
	for _, f := range fs {
		rows = append(rows, facilityRow{Facility: f, KindLabel: facilityKindLabel(f.Kind)})
	}
	return s.render(w, r, http.StatusOK, "facilities", &view{Title: "Facilities", Area: "settings", Data: rows})
}

// facilityForm is the facility form as typed. Input names are the API's
// field names ("cutoff_time", "address.country"), so inventory's field
// errors find their input.
type facilityForm struct {
	Code, Name, Kind, Timezone, Cutoff, Priority string
	Active                                       bool
	Address                                      inventory.Address
}

func facilityFormOf(f inventory.Facility) facilityForm {
	return facilityForm{Code: f.Code, Name: f.Name, Kind: string(f.Kind), Timezone: f.Timezone, Cutoff: f.Cutoff,
		Priority: strconv.Itoa(f.Priority), Active: f.Active, Address: f.Address}
}

func facilityFormFrom(r *http.Request) facilityForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return facilityForm{Code: v("code"), Name: v("name"), Kind: v("kind"), Timezone: v("timezone"), Cutoff: v("cutoff_time"),
		Priority: v("priority"), Active: v("active") != "",
		Address: inventory.Address{Name: v("address.name"), Company: v("address.company"), Line1: v("address.line1"), Line2: v("address.line2"),
			City: v("address.city"), Region: v("address.region"), PostalCode: v("address.postal_code"), Country: v("address.country"), Phone: v("address.phone")}}
}

// input turns the form into a FacilityInput, with a field error when the
// priority is not a number.
func (f facilityForm) input() (inventory.FacilityInput, errs.FieldList) {
	var fe errs.FieldList
	in := inventory.FacilityInput{Code: f.Code, Name: f.Name, Kind: inventory.FacilityKind(f.Kind), Address: f.Address, Timezone: f.Timezone, Cutoff: f.Cutoff, Active: &f.Active}
	if f.Priority != "" {
		p, err := strconv.Atoi(f.Priority)
		if err != nil {
			fe.Add("priority", "must be a whole number; lower is preferred", f.Priority)
		}
		in.Priority = &p
	}
	return in, fe
}

// binForm is the add-bin form as typed.
type binForm struct {
	Code, Zone, Aisle, Bay, Level, Position string
	Pickable                                bool
}

type facilityPage struct {
	New       bool
	Facility  *inventory.Facility // nil for a new facility
	Form      facilityForm
	Errors    formErrors
	Kinds     []facilityKind
	KindLabel string
	// Bins, for a facility that keeps them.
	HasBins   bool
	Bins      []inventory.Bin
	BinForm   binForm
	BinErrors formErrors
	After     string // the page of bins shown
	NextURL   string
	FirstURL  string
	// Conn and Costs are the Connection and Costs sections (connection.go);
	// a handler sets one to show what it did there.
	Conn  *connSection
	Costs *costSection
}

// Action is where the facility form posts.
func (p facilityPage) Action() string {
	if p.New {
		return "/settings/facilities"
	}
	return "/settings/facilities/" + p.Facility.ID
}

func (s *server) renderFacility(w http.ResponseWriter, r *http.Request, status int, page facilityPage) error {
	page.Kinds = facilityKinds
	title := "New facility"
	if !page.New {
		f := page.Facility
		title = f.Code
		if page.Conn == nil {
			page.Conn = &connSection{}
		}
		if err := s.fillConnection(r, *f, page.Conn); err != nil {
			return err
		}
		if page.Costs == nil {
			page.Costs = &costSection{}
		}
		if err := s.fillCosts(r, *f, page.Costs); err != nil {
			return err
		}
		page.KindLabel = facilityKindLabel(f.Kind)
		page.HasBins = hasBins(f.Kind)
		if page.HasBins {
			after := r.URL.Query().Get("after")
			bins, next, err := s.d.Inventory.ListBins(r.Context(), f.TenantID, f.ID, after, binPageSize)
			if err != nil {
				return err
			}
			page.Bins, page.After = bins, after
			if next != "" {
				page.NextURL = "/settings/facilities/" + f.ID + "?after=" + url.QueryEscape(next) + "#bins"
			}
			if after != "" {
				page.FirstURL = "/settings/facilities/" + f.ID + "#bins"
			}
		}
	}
	return s.render(w, r, status, "facility", &view{Title: title, Area: "settings", Data: page})
}

func (s *server) facilityNew(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	form := facilityForm{Kind: string(inventory.Own), Timezone: personFrom(r).Tenant.Timezone, Priority: "100", Active: true}
	return s.renderFacility(w, r, http.StatusOK, facilityPage{New: true, Form: form})
}

func (s *server) facilityCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	form := facilityFormFrom(r)
	page := facilityPage{New: true, Form: form}
	in, fe := form.input()
	if len(fe) > 0 {
		page.Errors = fieldErrors(fe, nil)
		return s.renderFacility(w, r, http.StatusUnprocessableEntity, page)
	}
	f, err := s.d.Inventory.CreateFacility(r.Context(), personFrom(r).Tenant.ID, in)
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			page.Errors = fieldErrors(fields, nil)
			return s.renderFacility(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	msg := "Facility " + f.Code + " created."
	if hasBins(f.Kind) {
		msg += " Add its bins below."
	}
	s.flash(r, msg)
	http.Redirect(w, r, "/settings/facilities/"+f.ID, http.StatusSeeOther)
	return nil
}

func (s *server) facilityEdit(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:read"); err != nil {
		return err
	}
	f, err := s.d.Inventory.Facility(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderFacility(w, r, http.StatusOK, facilityPage{Facility: &f, Form: facilityFormOf(f), BinForm: binForm{Pickable: true}})
}

func (s *server) facilityUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	tenant := personFrom(r).Tenant.ID
	cur, err := s.d.Inventory.Facility(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	form := facilityFormFrom(r)
	form.Kind = string(cur.Kind) // fixed after creation; the form does not send it
	page := facilityPage{Facility: &cur, Form: form, BinForm: binForm{Pickable: true}}
	in, fe := form.input()
	if len(fe) > 0 {
		page.Errors = fieldErrors(fe, nil)
		return s.renderFacility(w, r, http.StatusUnprocessableEntity, page)
	}
	// The form carries every field, so it replaces the input whole.
	f, err := s.d.Inventory.UpdateFacility(r.Context(), tenant, cur.ID, func(old *inventory.FacilityInput) {
		if in.Priority == nil {
			in.Priority = old.Priority
		}
		*old = in
	})
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			page.Errors = fieldErrors(fields, nil)
			return s.renderFacility(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	s.flash(r, "Saved "+f.Code+".")
	http.Redirect(w, r, "/settings/facilities/"+f.ID, http.StatusSeeOther)
	return nil
}

func (s *server) binCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	tenant := personFrom(r).Tenant.ID
	f, err := s.d.Inventory.Facility(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	bf := binForm{Code: v("code"), Zone: v("zone"), Aisle: v("aisle"), Bay: v("bay"), Level: v("level"), Position: v("position"), Pickable: v("pickable") != ""}
	b, err := s.d.Inventory.CreateBin(r.Context(), tenant, f.ID, inventory.BinInput{Code: bf.Code, Zone: bf.Zone, Aisle: bf.Aisle, Bay: bf.Bay,
		Level: bf.Level, Position: bf.Position, Pickable: &bf.Pickable})
	if err != nil {
		fields := errs.Fields(err)
		if len(fields) == 0 && errs.KindOf(err) == errs.Invalid {
			fields = []errs.FieldError{{Field: "", Message: userMessage(err, "This facility cannot have bins.")}}
		}
		if len(fields) > 0 {
			page := facilityPage{Facility: &f, Form: facilityFormOf(f), BinForm: bf, BinErrors: fieldErrors(fields, nil)}
			return s.renderFacility(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	s.flash(r, "Bin "+b.Code+" added to "+f.Code+".")
	http.Redirect(w, r, "/settings/facilities/"+f.ID+"#bins", http.StatusSeeOther)
	return nil
}

// binUpdate makes a bin pickable or not (overstock and receiving bins are
// skipped by picking).
func (s *server) binUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "inventory:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	tenant := personFrom(r).Tenant.ID
	f, err := s.d.Inventory.Facility(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	b, err := s.d.Inventory.Bin(r.Context(), tenant, r.PathValue("bin"))
	if err != nil {
		return err
	}
	if b.FacilityID != f.ID {
		return errs.E("web.binUpdate", errs.NotExist, "bin not in this facility")
	}
	pickable := r.PostFormValue("pickable") == "1"
	b, err = s.d.Inventory.UpdateBin(r.Context(), tenant, b.ID, func(in *inventory.BinInput) { in.Pickable = &pickable })
	if err != nil {
		return err
	}
	if b.Pickable {
		s.flash(r, "Bin "+b.Code+" is pickable.")
	} else {
		s.flash(r, "Bin "+b.Code+" is no longer picked from (overstock or receiving).")
	}
	back := "/settings/facilities/" + f.ID
	if after := r.PostFormValue("after"); after != "" {
		back += "?after=" + url.QueryEscape(after)
	}
	http.Redirect(w, r, back+"#bins", http.StatusSeeOther)
	return nil
}
