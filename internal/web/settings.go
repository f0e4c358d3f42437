package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
)

// scopeRow is one area's read and write checkboxes in the key form.
type scopeRow struct {
	Area         string
	Read, Write  auth.Scope
	ReadChecked  bool
	WriteChecked bool
}

type apiKeyPage struct {
	Keys   []auth.APIKey
	Name   string
	Scopes []scopeRow
	Errors formErrors
	// Created and Secret are set once, on the page that answers the
	// creation; the secret is not stored and cannot be shown again.
	Created *auth.APIKey
	Secret  string
}

func scopeRows(checked []auth.Scope) []scopeRow {
	var rows []scopeRow
	for _, a := range auth.Areas {
		rd, wr := auth.Scope(a+":read"), auth.Scope(a+":write")
		rows = append(rows, scopeRow{Area: a, Read: rd, Write: wr,
			ReadChecked: slices.Contains(checked, rd), WriteChecked: slices.Contains(checked, wr)})
	}
	return rows
}

func (s *server) apiKeyPage(w http.ResponseWriter, r *http.Request, status int, page apiKeyPage) error {
	keys, err := s.d.Auth.ListAPIKeys(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page.Keys = keys
	return s.render(w, r, status, "api_keys", &view{Title: "API keys", Area: "settings", Data: page})
}

func (s *server) apiKeyList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	return s.apiKeyPage(w, r, http.StatusOK, apiKeyPage{Scopes: scopeRows(auth.AllScopes())})
}

func (s *server) apiKeyCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	var scopes []auth.Scope
	for _, v := range r.PostForm["scope"] {
		sc, err := auth.ParseScope(v)
		if err != nil {
			return err
		}
		scopes = append(scopes, sc)
	}
	page := apiKeyPage{Name: name, Scopes: scopeRows(scopes)}
	// auth gives a key with no scopes every scope; in a form, ticking
	// nothing means a mistake, not "everything".
	if len(scopes) == 0 {
		page.Errors = formErrors{"scopes": {"Choose at least one area the key may read or write."}}
		return s.apiKeyPage(w, r, http.StatusUnprocessableEntity, page)
	}
	key, secret, err := s.d.Auth.CreateAPIKey(r.Context(), personFrom(r).Tenant.ID, name, scopes)
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			page.Errors = formErrors{}
			for _, f := range fields {
				page.Errors[f.Field] = append(page.Errors[f.Field], f.Message)
			}
			return s.apiKeyPage(w, r, http.StatusUnprocessableEntity, page)
		}
		return err
	}
	return s.apiKeyPage(w, r, http.StatusOK, apiKeyPage{Created: &key, Secret: secret, Scopes: scopeRows(auth.AllScopes())})
}

func (s *server) apiKeyRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	k, err := s.d.Auth.RevokeAPIKey(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	label := k.Prefix
	if k.Name != "" {
		label = k.Name + " (" + k.Prefix + "…)"
	}
	s.flash(r, "API key "+label+" revoked. Programs using it are refused from now on.")
	http.Redirect(w, r, "/settings/api-keys", http.StatusSeeOther)
	return nil
}

// newUserForm is the add-person form as typed (never the password).
type newUserForm struct {
	Email, Name string
	Role        auth.Role
}

type userPage struct {
	Users  []auth.User
	Roles  []auth.Role
	Form   newUserForm
	Errors formErrors
	Notice string // a refused change, shown above the table
}

func (s *server) userPage(w http.ResponseWriter, r *http.Request, status int, page userPage) error {
	users, err := s.d.Auth.ListUsers(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page.Users, page.Roles = users, auth.Roles
	if page.Form.Role == "" {
		page.Form.Role = auth.Warehouse
	}
	return s.render(w, r, status, "users", &view{Title: "Users", Area: "settings", Data: page})
}

func (s *server) userList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	return s.userPage(w, r, http.StatusOK, userPage{})
}

func (s *server) userCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	form := newUserForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")), Role: auth.Role(r.PostFormValue("role"))}
	u, err := s.d.Auth.CreateUser(r.Context(), personFrom(r).Tenant.ID, auth.NewUser{Email: form.Email, Name: form.Name, Role: form.Role, Password: r.PostFormValue("password")})
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			fe := formErrors{}
			for _, f := range fields {
				fe[f.Field] = append(fe[f.Field], f.Message)
			}
			return s.userPage(w, r, http.StatusUnprocessableEntity, userPage{Form: form, Errors: fe})
		}
		return err
	}
	s.flash(r, u.Email+" can now sign in as "+string(u.Role)+". Give them their initial password by a channel other than e-mail.")
	http.Redirect(w, r, "/settings/users", http.StatusSeeOther)
	return nil
}

// userUpdate changes one person's role, or disables or enables them.
func (s *server) userUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	me := personFrom(r)
	id := r.PathValue("id")
	var role *auth.Role
	var disabled *bool
	switch r.PostFormValue("action") {
	case "role":
		ro := auth.Role(r.PostFormValue("role"))
		role = &ro
	case "disable":
		if id == me.User.ID {
			return s.userPage(w, r, http.StatusConflict, userPage{Notice: "You cannot disable your own account. Ask another owner or admin."})
		}
		t := true
		disabled = &t
	case "enable":
		f := false
		disabled = &f
	default:
		return errs.E("web.userUpdate", errs.Invalid, "unknown action")
	}
	u, err := s.d.Auth.UpdateUser(r.Context(), me.Tenant.ID, id, nil, role, disabled)
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Conflict:
			return s.userPage(w, r, http.StatusConflict, userPage{Notice: userMessage(err, "That change was refused.")})
		case errs.Invalid:
			return s.userPage(w, r, http.StatusUnprocessableEntity, userPage{Notice: userMessage(err, "That change was refused.")})
		}
		return err
	}
	switch {
	case role != nil:
		s.flash(r, u.Email+" is now "+string(u.Role)+".")
	case *disabled:
		s.flash(r, u.Email+" is disabled and signed out everywhere.")
	default:
		s.flash(r, u.Email+" can sign in again.")
	}
	http.Redirect(w, r, "/settings/users", http.StatusSeeOther)
	return nil
}
