package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
)

// Session keys.
const (
	keyTenant = "tenant_id"
	keyUser   = "user_id"
)

// person is who is signed in, re-read from the database on every request
// so that disabling someone or changing their role takes effect at once.
type person struct {
	Principal auth.Principal
	User      auth.User
	Tenant    auth.Tenant
	Loc       *time.Location
}

type personKey struct{}

func personFrom(r *http.Request) *person {
	p, _ := r.Context().Value(personKey{}).(*person)
	return p
}

// public wraps a handler that works signed out (the sign-in pages).
func (s *server) public(h handler) http.Handler {
	return s.sm.LoadAndSave(s.handle(h))
}

// signedIn wraps a handler that needs a signed-in person: without one, the
// browser is sent to the sign-in page and brought back afterwards.
func (s *server) signedIn(h handler) http.Handler {
	return s.sm.LoadAndSave(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.currentPerson(r.Context())
		if err != nil {
			if !errs.Is(errs.Unauthenticated, err) {
				return err
			}
			return s.toLogin(w, r)
		}
		ctx := auth.WithPrincipal(r.Context(), p.Principal)
		ctx = context.WithValue(ctx, personKey{}, p)
		return h(w, r.WithContext(ctx))
	}))
}

// currentPerson returns the person of the request's session; Unauthenticated
// when there is none or they may no longer sign in.
func (s *server) currentPerson(ctx context.Context) (*person, error) {
	tenantID, userID := s.sm.GetString(ctx, keyTenant), s.sm.GetString(ctx, keyUser)
	if tenantID == "" || userID == "" {
		return nil, errs.E("web.currentPerson", errs.Unauthenticated, "not signed in")
	}
	pr, u, err := s.d.Auth.PrincipalForUser(ctx, tenantID, userID)
	if err != nil {
		// auth reports every failure here as Unauthenticated, a database
		// outage included; only a user who is gone or disabled should lose
		// the session, so look at the cause.
		switch k := rootKind(err); k {
		case errs.Transient:
			return nil, errs.E("web.currentPerson", errs.Transient, err)
		case errs.Internal, errs.Other:
			return nil, errs.E("web.currentPerson", errs.Internal, err)
		}
		if derr := s.sm.Destroy(ctx); derr != nil {
			return nil, errs.E("web.currentPerson", errs.Internal, derr)
		}
		return nil, errs.E("web.currentPerson", errs.Unauthenticated, err)
	}
	t, err := s.d.Auth.Tenant(ctx, tenantID)
	if err != nil {
		return nil, errs.E("web.currentPerson", err)
	}
	return &person{Principal: pr, User: u, Tenant: t, Loc: s.zones.get(t.Timezone)}, nil
}

// rootKind is the kind of the innermost classified error in err's chain.
func rootKind(err error) errs.Kind {
	kind := errs.Other
	for err != nil {
		var e *errs.Error
		if !errors.As(err, &e) {
			break
		}
		if e.Kind != errs.Other {
			kind = e.Kind
		}
		err = e.Err
	}
	return kind
}

// toLogin sends a signed-out browser to the sign-in page. htmx requests get
// an HX-Redirect header, so the whole page moves rather than a fragment.
func (s *server) toLogin(w http.ResponseWriter, r *http.Request) error {
	target := loginURL(r)
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// loginURL is /login with a next parameter that brings a GET back to where
// it was. After a refused POST there is no page to return to.
func loginURL(r *http.Request) string {
	if r.Method != http.MethodGet || r.URL.Path == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(r.URL.RequestURI())
}

// localPath returns next when it is a path on this site, else "/products".
// Anything that a browser could read as another host ("//evil", "/\evil",
// "https://…") is refused: an open redirect after sign-in is a phishing aid.
func localPath(next string) string {
	const home = "/products"
	if next == "" || len(next) > 2000 || next[0] != '/' {
		return home
	}
	if strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "/login") {
		return home
	}
	return next
}

type loginPage struct {
	Email string
	Next  string
	Error string
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"))
	if _, err := s.currentPerson(r.Context()); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "login", &view{Title: "Sign in", Data: loginPage{Next: r.URL.Query().Get("next")}})
}

// login signs a person in. Unknown e-mail, wrong password and disabled user
// all get the same message, so the form does not reveal who has an account.
func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	next := r.PostFormValue("next")
	fail := func() error {
		return s.render(w, r, http.StatusUnauthorized, "login", &view{Title: "Sign in", Data: loginPage{Email: email, Next: next,
			Error: "Wrong e-mail or password. Check both and try again."}})
	}
	if email == "" || password == "" || len(email) > 320 || len(password) > 1024 {
		return fail()
	}
	u, err := s.d.Auth.Login(r.Context(), email, password)
	if err != nil {
		if errs.Is(errs.Unauthenticated, err) {
			return fail()
		}
		return err
	}
	// A new token on every sign-in: a token planted before (session
	// fixation) is worth nothing afterwards.
	if err := s.sm.RenewToken(r.Context()); err != nil {
		return errs.E("web.login", errs.Internal, err)
	}
	s.sm.Put(r.Context(), keyTenant, u.TenantID)
	s.sm.Put(r.Context(), keyUser, u.ID)
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
	return nil
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.sm.Destroy(r.Context()); err != nil {
		return errs.E("web.logout", errs.Internal, err)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// maxForm bounds a dashboard form body; the largest (a product with a long
// description) stays well under it.
const maxForm = 256 << 10

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return errs.E("web.parseForm", errs.Invalid, "the form could not be read (is it larger than 256 KiB?)")
	}
	return nil
}

// need returns a Permission error unless the signed-in person holds scope.
func need(r *http.Request, scope auth.Scope) error {
	p, ok := auth.PrincipalFrom(r.Context())
	if !ok || !p.Can(scope) {
		return errs.E("web.need", errs.Permission)
	}
	return nil
}
