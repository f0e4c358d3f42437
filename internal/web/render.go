package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/money"
)

//go:embed templates
var templateFS embed.FS

// pages holds one template set per page: the layout and shared partials
// (templates/layout.html and templates/partials/) plus the page's own file,
// which defines "content".
type pages struct {
	set map[string]*template.Template
}

func loadPages(a *assets) *pages {
	funcs := template.FuncMap{
		"asset":     a.URL,
		"scopes":    formatScopes,
		"signed":    formatSigned,
		"sign":      signClass,
		"kindLabel": kindLabel,
		"list":      func(s ...string) []string { return s },
		"facilityChoice": func(name, value string, fs []inventory.Facility) facilityChoice {
			return facilityChoice{Name: name, Value: value, Facilities: fs}
		},
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{set: map[string]*template.Template{}}
	for _, n := range names {
		file := strings.TrimPrefix(n, "templates/")
		if file == "layout.html" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		p.set[strings.TrimSuffix(file, ".html")] = t
	}
	return p
}

// facilityChoice is what the facility_select partial receives.
type facilityChoice struct {
	Name, Value string
	Facilities  []inventory.Facility
}

// view is what every page template receives.
type view struct {
	Title     string
	Area      string // the navigation entry to highlight
	Person    *person
	Flash     string
	RequestID string
	Data      any
}

// Can reports whether the signed-in person holds a scope, e.g. "catalog:write".
func (v *view) Can(scope string) bool {
	return v.Person != nil && v.Person.Principal.Can(auth.Scope(scope))
}

// Time shows a time in the tenant's time zone; nil shows a dash.
func (v *view) Time(t any) string {
	var tt time.Time
	switch t := t.(type) {
	case time.Time:
		tt = t
	case *time.Time:
		if t == nil {
			return "—"
		}
		tt = *t
	}
	if tt.IsZero() {
		return "—"
	}
	loc := time.UTC
	if v.Person != nil && v.Person.Loc != nil {
		loc = v.Person.Loc
	}
	return tt.In(loc).Format("2 Jan 2006 15:04 MST")
}

// navItem is one area of the product in the navigation. Areas that are not
// built yet are shown, disabled, so people see where Waybill is going
// without being sent to empty pages.
type navItem struct {
	Area  string
	Label string
	Href  string // "" = not available yet
}

var nav = []navItem{
	{"orders", "Orders", "/orders"},
	{"products", "Products", "/products"},
	{"inventory", "Inventory", "/inventory"},
	{"fulfilment", "Fulfilment", "/fulfillment"},
	{"warehouse", "Warehouse", ""},
	{"shipping", "Shipping", ""},
	{"returns", "Returns", ""},
	{"insights", "Insights", "/insights/costs"},
	{"settings", "Settings", "/settings"},
}

// Nav returns the navigation entries.
func (v *view) Nav() []navItem { return nav }

// tabs is what the tab partials receive: the active tab and the view, so a
// partial can leave out tabs the person may not open.
type tabs struct {
	Active string
	View   *view
}

// Tabs is the argument of a tab partial, e.g. {{template "settings_tabs" ($.Tabs "users")}}.
func (v *view) Tabs(active string) tabs { return tabs{Active: active, View: v} }

// render writes a full page. It renders into a buffer first, so a template
// failure becomes an error page instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) error {
	return s.renderTemplate(w, r, status, name, "layout", v)
}

// renderPart writes one named template of a page without the layout (for
// htmx requests that replace part of a page).
func (s *server) renderPart(w http.ResponseWriter, r *http.Request, name, part string, v *view) error {
	return s.renderTemplate(w, r, http.StatusOK, name, part, v)
}

func (s *server) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, v *view) error {
	t, ok := s.pages.set[name]
	if !ok {
		return errs.E("web.render", errs.Internal, "no page template "+name)
	}
	if v.Person == nil {
		v.Person = personFrom(r)
	}
	if v.RequestID == "" {
		v.RequestID = requestID(w)
	}
	if v.Flash == "" && v.Person != nil && tmpl == "layout" {
		v.Flash = s.sm.PopString(r.Context(), "flash")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		return errs.E("web.render", errs.Internal, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show one tenant's data: keep them out of shared and back-button caches.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// flash keeps a one-line message for the next page the person sees.
func (s *server) flash(r *http.Request, msg string) {
	s.sm.Put(r.Context(), "flash", msg)
}

// requestID returns the id the request-id middleware put on the response,
// making one when the dashboard runs without it (as in some tests).
func requestID(w http.ResponseWriter) string {
	rid := w.Header().Get("X-Request-Id")
	if rid == "" {
		rid = id.New("req")
		w.Header().Set("X-Request-Id", rid)
	}
	return rid
}

// handler is a dashboard handler: it returns its error instead of writing
// it, and handle turns the error into the one error page.
type handler func(w http.ResponseWriter, r *http.Request) error

// trackingWriter remembers whether a response was started, so an error
// after that point is logged rather than written into the middle of a page.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (t *trackingWriter) WriteHeader(code int) { t.started = true; t.ResponseWriter.WriteHeader(code) }
func (t *trackingWriter) Write(b []byte) (int, error) {
	t.started = true
	return t.ResponseWriter.Write(b)
}
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func (s *server) handle(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		err := h(tw, r)
		if err == nil {
			return
		}
		if tw.started {
			s.d.Log.ErrorContext(r.Context(), "dashboard: error after response started", "request_id", requestID(w), "path", r.URL.Path, "err", err)
			return
		}
		s.renderError(w, r, err)
	})
}

// errorPage is what the error template shows.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// renderError is the only place where an error becomes a dashboard
// response. Internal errors are logged with the request id, which the page
// shows so a person can quote it.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	rid := requestID(w)
	kind := errs.KindOf(err)
	ep := errorPage{}
	switch kind {
	case errs.NotExist:
		ep = errorPage{http.StatusNotFound, "Not found", "There is nothing here. The link may be wrong, or what it pointed to may have been removed."}
	case errs.Permission:
		ep = errorPage{http.StatusForbidden, "Not allowed", userMessage(err, "Your role does not allow this. Ask an owner or admin of your account.")}
	case errs.Unauthenticated:
		http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
		return
	case errs.Invalid:
		ep = errorPage{http.StatusBadRequest, "That did not work", userMessage(err, "The request was not valid.")}
	case errs.Conflict:
		ep = errorPage{http.StatusConflict, "That did not work", userMessage(err, "The request clashes with the current state. Reload and try again.")}
	case errs.Transient:
		ep = errorPage{http.StatusServiceUnavailable, "Try again", "Waybill is busy or could not reach its database. Please try again in a moment."}
	default:
		s.d.Log.ErrorContext(r.Context(), "dashboard request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
		ep = errorPage{http.StatusInternalServerError, "Something went wrong", "An unexpected error stopped this page. It has been logged."}
	}
	if kind == errs.Transient {
		s.d.Log.WarnContext(r.Context(), "dashboard request failed", "request_id", rid, "path", r.URL.Path, "err", err)
	}
	v := &view{Title: ep.Heading, RequestID: rid, Data: ep}
	if rerr := s.renderTemplate(w, r, ep.Status, "error", "layout", v); rerr != nil {
		s.d.Log.ErrorContext(r.Context(), "dashboard: rendering the error page failed", "request_id", rid, "err", rerr)
		http.Error(w, ep.Heading+" (request "+rid+")", ep.Status)
	}
}

// userMessage returns the message of the outermost *errs.Error that has one,
// which for the kinds shown to people is written for them.
func userMessage(err error, fallback string) string {
	var e *errs.Error
	for errors.As(err, &e) {
		if e.Msg != "" {
			r, n := utf8.DecodeRuneInString(e.Msg)
			return string(unicode.ToUpper(r)) + e.Msg[n:]
		}
		err = e.Err
	}
	return fallback
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) error {
	return errs.E("web.notFound", errs.NotExist, "page not found")
}

func (s *server) crossOriginRefused(w http.ResponseWriter, r *http.Request) error {
	return errs.E("web.crossOrigin", errs.Permission,
		"This form was sent from another site, so it was refused. Open Waybill directly and try again.")
}

// sessionError handles a failure to load or save a session (the database is
// unreachable); scs calls it. The error page needs no session.
func (s *server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	s.renderError(w, r, errs.E("web.session", errs.Internal, err))
}

// zoneCache keeps loaded time zones; time.LoadLocation reads the zone
// database each time.
type zoneCache struct{ m sync.Map }

func (z *zoneCache) get(name string) *time.Location {
	if l, ok := z.m.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	z.m.Store(name, l)
	return l
}

func formatMoney(minor *int64, currency string) string {
	if minor == nil {
		return "—"
	}
	return currency + " " + money.Amount{Minor: *minor, Currency: currency}.String()
}

func formatGrams(g int64) string {
	switch {
	case g == 0:
		return "—"
	case g < 1000:
		return strconv.FormatInt(g, 10) + " g"
	}
	s := strconv.FormatFloat(float64(g)/1000, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " kg"
}

// formatScopes shortens a key's scopes for a table: "all", or per area
// "catalog (write)", "orders (read)".
func formatScopes(sc []auth.Scope) string {
	have := map[auth.Scope]bool{}
	for _, s := range sc {
		have[s] = true
	}
	all := true
	for _, s := range auth.AllScopes() {
		all = all && have[s]
	}
	if all {
		return "All areas, read and write"
	}
	var parts []string
	for _, a := range auth.Areas {
		switch {
		case have[auth.Scope(a+":write")]:
			parts = append(parts, a+" (write)")
		case have[auth.Scope(a+":read")]:
			parts = append(parts, a+" (read)")
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
