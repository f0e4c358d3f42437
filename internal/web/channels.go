package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
)

// hooksPrefix is where channels deliver webhooks (httpapi.HooksPrefix; a
// test keeps the two equal).
const hooksPrefix = "/hooks/channels/"

// channelField is one setting of a kind of channel in the connect form. Its
// Name is the setting's name in the API (httpapi.ChannelSettings).
type channelField struct {
	Name, Label, Hint, Placeholder string
	Secret                         bool
	Choices                        []string // a select
	List                           bool     // several values, separated by commas
	Advanced                       bool     // overrides for sandboxes and fakes
}

// channelFields are the settings of the kinds Waybill knows, in form order.
// A kind not listed here gets a field for each of its secrets.
var channelFields = map[string][]channelField{
	"shopify": {
		{Name: "shop_domain", Label: "Shop domain", Placeholder: "outdoor-co.myshopify.com", Hint: "The shop's permanent myshopify.com address."},
		{Name: "access_token", Label: "Admin API access token", Secret: true, Hint: "From your custom app's API credentials (shpat_…)."},
		{Name: "webhook_secret", Label: "Webhook signing secret", Secret: true, Hint: "The app's client secret: Shopify signs webhooks with it."},
		{Name: "api_version", Label: "Admin API version", Placeholder: "2025-07", Advanced: true},
		{Name: "base_url", Label: "API address", Hint: "Replaces https://{shop domain}, for a proxy or a test shop.", Advanced: true},
	},
	"woocommerce": {
		{Name: "store_url", Label: "Store address", Placeholder: "https://shop.example.com"},
		{Name: "consumer_key", Label: "REST API consumer key", Secret: true, Hint: "WooCommerce › Settings › Advanced › REST API, with read access (ck_…)."},
		{Name: "consumer_secret", Label: "REST API consumer secret", Secret: true, Hint: "Shown beside the key (cs_…)."},
		{Name: "webhook_secret", Label: "Webhook secret", Secret: true, Hint: "The secret you give the store's order webhooks."},
	},
	"ecwid": {
		{Name: "store_id", Label: "Store ID", Placeholder: "1003"},
		{Name: "access_token", Label: "Secret access token", Secret: true, Hint: "The app's secret token for the store (secret_…)."},
		{Name: "client_secret", Label: "Client secret", Secret: true, Hint: "The app's client_secret: Ecwid signs webhooks with it."},
		{Name: "currency", Label: "Store currency", Placeholder: "USD", Hint: "Read from the store's profile when empty."},
		{Name: "base_url", Label: "API address", Hint: "Replaces https://app.ecwid.com.", Advanced: true},
	},
	"amazon": {
		{Name: "region", Label: "Region", Choices: []string{"na", "eu", "fe"}, Hint: "na: North America, eu: Europe, fe: Far East."},
		{Name: "marketplace_ids", Label: "Marketplace IDs", List: true, Placeholder: "ATVPDKIKX0DER", Hint: "The marketplaces to read orders of, separated by commas."},
		{Name: "client_id", Label: "LWA client ID", Placeholder: "amzn1.application-oa2-client.…"},
		{Name: "client_secret", Label: "LWA client secret", Secret: true},
		{Name: "refresh_token", Label: "Refresh token", Secret: true, Hint: "From authorising the app for your seller account (Atzr|…)."},
		{Name: "endpoint", Label: "SP-API address", Advanced: true},
		{Name: "token_url", Label: "Token address", Advanced: true},
	},
	"ebay": {
		{Name: "environment", Label: "Environment", Choices: []string{"production", "sandbox"}},
		{Name: "client_id", Label: "App ID (client ID)"},
		{Name: "client_secret", Label: "Cert ID (client secret)", Secret: true},
		{Name: "refresh_token", Label: "User refresh token", Secret: true, Hint: "From the consent flow for your seller account."},
		{Name: "scope", Label: "OAuth scopes", Hint: "The scopes the refresh token was granted; sell.fulfillment when empty.", Advanced: true},
		{Name: "base_url", Label: "API address", Advanced: true},
		{Name: "token_url", Label: "Token address", Advanced: true},
	},
}

var channelKindLabels = map[string]string{"shopify": "Shopify", "woocommerce": "WooCommerce", "ecwid": "Ecwid", "amazon": "Amazon", "ebay": "eBay"}

func channelKindLabel(name string) string {
	if l, ok := channelKindLabels[name]; ok {
		return l
	}
	return upperFirst(name)
}

// fieldsOf lists a kind's form fields: the known ones, and a secret field
// for any secret of the kind they leave out. A setting the kind calls
// secret is a password input whatever the table says.
func fieldsOf(k channels.Kind) []channelField {
	fs := slices.Clone(channelFields[k.Name])
	for i := range fs {
		fs[i].Secret = fs[i].Secret || slices.Contains(k.Secrets, fs[i].Name)
	}
	for _, sec := range k.Secrets {
		if !slices.ContainsFunc(fs, func(f channelField) bool { return f.Name == sec }) {
			fs = append(fs, channelField{Name: sec, Label: upperFirst(strings.ReplaceAll(sec, "_", " ")), Secret: true})
		}
	}
	return fs
}

func fieldLabel(k channels.Kind, name string) string {
	for _, f := range fieldsOf(k) {
		if f.Name == name {
			return f.Label
		}
	}
	return ""
}

// formField is a field with what was typed (never a secret) and its errors.
type formField struct {
	channelField
	Value  string
	Errors []string
}

// channelRow is a connection as the list shows it.
type channelRow struct {
	channels.Channel
	KindLabel  string
	WebhookURL string
	PollEvery  string
	Secrets    []string // labels of the secrets that are stored
}

type kindOption struct{ Name, Label string }

type channelsPage struct {
	Channels []channelRow
	Kinds    []kindOption
	Kind     string // the kind the connect form is for
	Name     string
	Fields   []formField
	Errors   formErrors
	Problems []string
	Created  *channelRow
	CanWrite bool
}

// Basic and Advanced split the connect form's fields.
func (p channelsPage) Basic() []formField {
	return slices.DeleteFunc(slices.Clone(p.Fields), func(f formField) bool { return f.Advanced })
}

func (p channelsPage) Advanced() []formField {
	return slices.DeleteFunc(slices.Clone(p.Fields), func(f formField) bool { return !f.Advanced })
}

func (s *server) channelService() (*channels.Service, error) {
	if s.d.Channels == nil {
		return nil, errs.E("web.channels", errs.NotExist, "sales channels are not set up in this process")
	}
	return s.d.Channels, nil
}

// webhookBase is where people reach this Waybill: the configured public
// address, else the address this request came to.
func (s *server) webhookBase(r *http.Request) string {
	if u := strings.TrimRight(s.d.Config.PublicURL, "/"); u != "" {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *server) channelRowOf(r *http.Request, cs *channels.Service, c channels.Channel) channelRow {
	row := channelRow{Channel: c, KindLabel: channelKindLabel(c.Kind)}
	k, ok := cs.KindOf(c.Kind)
	if ok {
		row.PollEvery = formatEvery(k.PollEvery)
		if k.Webhooks {
			row.WebhookURL = s.webhookBase(r) + hooksPrefix + c.ID
		}
	}
	for _, sec := range c.SecretsSet {
		l := fieldLabel(k, sec)
		if l == "" {
			l = sec
		}
		row.Secrets = append(row.Secrets, l)
	}
	return row
}

func formatEvery(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%time.Hour == 0:
		return "every " + strings.TrimPrefix(count(int(d/time.Hour), "hour"), "1 ")
	case d%time.Minute == 0:
		return "every " + strings.TrimPrefix(count(int(d/time.Minute), "minute"), "1 ")
	}
	return "every " + d.String()
}

// count writes a number with its unit: "1 minute", "15 minutes".
func count(n int, unit string) string {
	return strconv.Itoa(n) + " " + unit + plural(int64(n))
}

func (s *server) channelsPage(w http.ResponseWriter, r *http.Request, status int, page channelsPage) error {
	cs, err := s.channelService()
	if err != nil {
		return err
	}
	list, err := cs.List(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	for _, c := range list {
		page.Channels = append(page.Channels, s.channelRowOf(r, cs, c))
	}
	page.Kinds = nil
	for _, k := range cs.Kinds() {
		page.Kinds = append(page.Kinds, kindOption{k.Name, channelKindLabel(k.Name)})
	}
	page.CanWrite = personFrom(r).Principal.Can("settings:write")
	if k, ok := cs.KindOf(page.Kind); ok && page.Fields == nil {
		for _, f := range fieldsOf(k) {
			page.Fields = append(page.Fields, formField{channelField: f})
		}
	}
	return s.render(w, r, status, "channels", &view{Title: "Sales channels", Area: "settings", Data: page})
}

func (s *server) channelList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	kind := r.URL.Query().Get("kind")
	if cs, err := s.channelService(); err == nil {
		if _, ok := cs.KindOf(kind); !ok {
			kind = ""
		}
	}
	page := channelsPage{Kind: kind}
	v := &view{Title: "Sales channels", Area: "settings"}
	// Choosing a kind (htmx) swaps in that kind's fields only.
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" && r.URL.Query().Get("part") == "connect" {
		cs, err := s.channelService()
		if err != nil {
			return err
		}
		if k, ok := cs.KindOf(kind); ok {
			for _, f := range fieldsOf(k) {
				page.Fields = append(page.Fields, formField{channelField: f})
			}
		}
		page.CanWrite = personFrom(r).Principal.Can("settings:write")
		v.Data = page
		w.Header().Add("Vary", "HX-Request")
		return s.renderPart(w, r, "channels", "connect", v)
	}
	return s.channelsPage(w, r, http.StatusOK, page)
}

func (s *server) channelCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	cs, err := s.channelService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind, name := r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("name"))
	page := channelsPage{Kind: kind, Name: name}
	k, ok := cs.KindOf(kind)
	if !ok {
		page.Kind = ""
		page.Errors = formErrors{"kind": {"Choose which kind of channel to connect."}}
		page.Problems = []string{"Kind: choose which kind of channel to connect."}
		return s.channelsPage(w, r, http.StatusUnprocessableEntity, page)
	}
	settings := map[string]any{}
	for _, f := range fieldsOf(k) {
		v := strings.TrimSpace(r.PostFormValue(f.Name))
		// A secret is never sent back to the browser, not even to a form
		// that is shown again because of a mistake elsewhere.
		ff := formField{channelField: f}
		if !f.Secret {
			ff.Value = v
		}
		page.Fields = append(page.Fields, ff)
		switch {
		case v == "":
		case f.List:
			var vs []any
			for _, x := range splitList(v) {
				vs = append(vs, x)
			}
			settings[f.Name] = vs
		default:
			settings[f.Name] = v
		}
	}
	c, err := cs.Create(r.Context(), personFrom(r).Tenant.ID, channels.Input{Kind: kind, Name: name, Settings: settings})
	if err != nil {
		fields := errs.Fields(err)
		if len(fields) == 0 {
			return err
		}
		page.Errors = formErrors{}
		for _, fe := range fields {
			// A list setting's errors name the item: marketplace_ids[1].
			key, _, item := strings.Cut(fe.Field, "[")
			text := fe.Message
			if v, ok := fe.Value.(string); ok && item {
				text = "“" + v + "” " + text
			}
			label := fieldLabel(k, key)
			if key == "name" {
				label = "Name"
			}
			i := slices.IndexFunc(page.Fields, func(f formField) bool { return f.Name == key })
			msg := upperFirst(text) + "."
			switch {
			case i >= 0:
				page.Fields[i].Errors = append(page.Fields[i].Errors, msg)
			case key == "name":
				page.Errors["name"] = append(page.Errors["name"], msg)
			default:
				page.Errors[""] = append(page.Errors[""], msg)
			}
			if label != "" {
				msg = label + ": " + text + "."
			}
			page.Problems = append(page.Problems, msg)
		}
		return s.channelsPage(w, r, http.StatusUnprocessableEntity, page)
	}
	row := s.channelRowOf(r, cs, c)
	return s.channelsPage(w, r, http.StatusOK, channelsPage{Created: &row})
}

func (s *server) channelPause(w http.ResponseWriter, r *http.Request) error {
	return s.channelSetActive(w, r, false)
}

func (s *server) channelResume(w http.ResponseWriter, r *http.Request) error {
	return s.channelSetActive(w, r, true)
}

func (s *server) channelSetActive(w http.ResponseWriter, r *http.Request, on bool) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	cs, err := s.channelService()
	if err != nil {
		return err
	}
	c, err := cs.Update(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"), channels.Input{Active: &on})
	if err != nil {
		return err
	}
	if on {
		s.flash(r, "“"+c.Name+"” is active again: its webhooks are taken and it is polled for orders.")
	} else {
		s.flash(r, "“"+c.Name+"” is paused: its webhooks are answered but ignored, and it is not polled. Orders already here are not touched.")
	}
	http.Redirect(w, r, "/settings/channels", http.StatusSeeOther)
	return nil
}

// channelPoll runs a channel's reconciliation poll now, in the request: it
// brings in orders a lost webhook never delivered.
func (s *server) channelPoll(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	cs, err := s.channelService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	c, err := cs.Get(ctx, tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	n, err := cs.Poll(ctx, tenant, c.ID)
	if n > 0 && s.d.Wake != nil {
		s.d.Wake() // new orders have events and e-mails to send
	}
	switch {
	case err != nil && errs.Is(errs.NotExist, err):
		return err
	case err != nil:
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		s.flash(r, "Polling “"+c.Name+"” failed after "+count(n, "order")+" changed: "+msg)
	case n == 0:
		s.flash(r, "Polled “"+c.Name+"”: no order was new or changed.")
	default:
		s.flash(r, "Polled “"+c.Name+"”: "+count(n, "order")+" created or brought up to date.")
	}
	http.Redirect(w, r, "/settings/channels", http.StatusSeeOther)
	return nil
}
