package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
)

// ChannelSettings are the settings of every kind of channel; each kind
// uses its own (see docs/channels.md). Secrets are write-only.
type ChannelSettings struct {
	ShopDomain     string   `json:"shop_domain,omitempty" doc:"Shopify: the shop's myshopify.com domain." example:"outdoor-co.myshopify.com"`
	APIVersion     string   `json:"api_version,omitempty" doc:"Shopify: Admin API version."`
	StoreURL       string   `json:"store_url,omitempty" doc:"WooCommerce: the store's address."`
	StoreID        string   `json:"store_id,omitempty" doc:"Ecwid: the store id."`
	Region         string   `json:"region,omitempty" doc:"Amazon: na, eu or fe."`
	MarketplaceIDs []string `json:"marketplace_ids,omitempty" doc:"Amazon: marketplaces to read orders of."`
	Environment    string   `json:"environment,omitempty" doc:"eBay: production or sandbox."`
	Scope          string   `json:"scope,omitempty" doc:"eBay: OAuth scope the refresh token was granted (default sell.fulfillment)."`
	ClientID       string   `json:"client_id,omitempty" doc:"Amazon/eBay: the app's OAuth client id."`
	BaseURL        string   `json:"base_url,omitempty" doc:"Override of the vendor's API address (testing against a sandbox or fake)."`
	Endpoint       string   `json:"endpoint,omitempty" doc:"Amazon: override of the SP-API endpoint."`
	TokenURL       string   `json:"token_url,omitempty" doc:"Amazon/eBay: override of the OAuth token endpoint."`
	// Secrets: accepted, stored, never shown again.
	WebhookSecret  string `json:"webhook_secret,omitempty" doc:"Shopify/WooCommerce: the secret webhooks are signed with. Write-only."`
	AccessToken    string `json:"access_token,omitempty" doc:"Shopify/Ecwid: API access token. Write-only."`
	ConsumerKey    string `json:"consumer_key,omitempty" doc:"WooCommerce REST API key. Write-only."`
	ConsumerSecret string `json:"consumer_secret,omitempty" doc:"WooCommerce REST API secret. Write-only."`
	ClientSecret   string `json:"client_secret,omitempty" doc:"Ecwid (signs webhooks)/Amazon/eBay OAuth client secret. Write-only."`
	RefreshToken   string `json:"refresh_token,omitempty" doc:"Amazon/eBay OAuth refresh token. Write-only."`
}

func (s ChannelSettings) asMap() map[string]any {
	b, _ := json.Marshal(s)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m
}

// Channel is a connection to a sales channel.
type Channel struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind" example:"shopify"`
	Name       string         `json:"name"`
	Active     bool           `json:"active"`
	Settings   map[string]any `json:"settings" doc:"The non-secret settings."`
	SecretsSet []string       `json:"secrets_set" doc:"Which secrets are stored (their values are never shown)."`
	WebhookURL string         `json:"webhook_url,omitempty" doc:"For webhook channels: paste this into the store's webhook settings."`
	PollEvery  int            `json:"poll_every_seconds" doc:"How often the reconciliation poll runs, recovering orders a lost webhook never brought."`
	LastPollAt *time.Time     `json:"last_poll_at,omitempty"`
	LastHookAt *time.Time     `json:"last_webhook_at,omitempty"`
	LastError  string         `json:"last_error,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

func (a *API) channelOut(c channels.Channel) Channel {
	out := Channel{ID: c.ID, Kind: c.Kind, Name: c.Name, Active: c.Active, Settings: c.Settings, SecretsSet: c.SecretsSet,
		LastPollAt: c.LastPollAt, LastHookAt: c.LastHookAt, LastError: c.LastError, CreatedAt: c.CreatedAt}
	if out.Settings == nil {
		out.Settings = map[string]any{}
	}
	if out.SecretsSet == nil {
		out.SecretsSet = []string{}
	}
	if k, ok := a.d.Channels.KindOf(c.Kind); ok {
		out.PollEvery = int(k.PollEvery / time.Second)
		if k.Webhooks {
			base := strings.TrimRight(a.d.Config.PublicURL, "/")
			if base == "" {
				base = "http://" + a.d.Config.Addr // set --public-url to an address the store can reach
			}
			out.WebhookURL = base + HooksPrefix + c.ID
		}
	}
	return out
}

func (a *API) listChannels(ctx context.Context, _ *struct{}) (*struct {
	Body struct {
		Items []Channel `json:"items"`
	}
}, error) {
	cs, err := a.d.Channels.List(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []Channel `json:"items"`
		}
	}{}
	out.Body.Items = []Channel{}
	for _, c := range cs {
		out.Body.Items = append(out.Body.Items, a.channelOut(c))
	}
	return out, nil
}

func (a *API) createChannel(ctx context.Context, in *struct {
	Body struct {
		Kind   string `json:"kind" enum:"shopify,woocommerce,ecwid,amazon,ebay"`
		Name   string `json:"name" maxLength:"80"`
		Active *bool  `json:"active,omitempty"`
		ChannelSettings
	}
}) (*struct{ Body Channel }, error) {
	c, err := a.d.Channels.Create(ctx, principal(ctx).TenantID, channels.Input{Kind: in.Body.Kind, Name: in.Body.Name, Active: in.Body.Active, Settings: in.Body.ChannelSettings.asMap()})
	if err != nil {
		return nil, err
	}
	return &struct{ Body Channel }{a.channelOut(c)}, nil
}

func (a *API) getChannel(ctx context.Context, in *orderIDInput) (*struct{ Body Channel }, error) {
	c, err := a.d.Channels.Get(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Channel }{a.channelOut(c)}, nil
}

func (a *API) updateChannel(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Name   string `json:"name,omitempty" maxLength:"80"`
		Active *bool  `json:"active,omitempty"`
		ChannelSettings
	}
}) (*struct{ Body Channel }, error) {
	c, err := a.d.Channels.Update(ctx, principal(ctx).TenantID, in.ID, channels.Input{Name: in.Body.Name, Active: in.Body.Active, Settings: in.Body.ChannelSettings.asMap()})
	if err != nil {
		return nil, err
	}
	return &struct{ Body Channel }{a.channelOut(c)}, nil
}

func (a *API) pollChannel(ctx context.Context, in *orderIDInput) (*struct {
	Body struct {
		Changed int `json:"changed" doc:"Orders created or brought up to date."`
	}
}, error) {
	n, err := a.d.Channels.Poll(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	out := &struct {
		Body struct {
			Changed int `json:"changed" doc:"Orders created or brought up to date."`
		}
	}{}
	out.Body.Changed = n
	return out, nil
}

// HooksPrefix is where channels deliver webhooks: HooksPrefix + channel id.
const HooksPrefix = "/hooks/channels/"

// maxHookBody bounds a webhook delivery (Shopify's largest orders are a few
// hundred KB).
const maxHookBody = 5 << 20

// ChannelHooks receives channel webhooks. It needs no API key: each
// delivery is verified with the channel's own signature scheme. Answers:
// 200 applied (or a duplicate, or a topic we ignore), 401 bad signature,
// 404 unknown channel, 413 too large, 4xx malformed — and nothing changes
// on any refusal.
func ChannelHooks(svc *channels.Service, log *slog.Logger, wake func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeProblem(w, r, &Problem{Status: http.StatusMethodNotAllowed, Detail: "webhooks are POSTed"})
			return
		}
		chID := strings.TrimPrefix(r.URL.Path, HooksPrefix)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
		if err != nil {
			writeProblem(w, r, &Problem{Status: http.StatusRequestEntityTooLarge, Detail: "a webhook body may be at most 5 MB"})
			return
		}
		res, err := svc.Receive(r.Context(), chID, r.Header, body)
		switch {
		case errors.Is(err, channels.ErrBadSignature):
			log.Warn("channel webhook with a bad signature", "channel", chID, "remote", r.RemoteAddr)
			writeProblem(w, r, &Problem{Status: http.StatusUnauthorized, Code: "bad_signature", Detail: "the webhook's signature does not verify with this channel's secret"})
			return
		case err != nil:
			p := problemFrom(r.Context(), log, err)
			if errs.KindOf(err) == errs.NotExist {
				p.Detail = "no channel takes webhooks at this address"
			}
			writeProblem(w, r, p)
			return
		}
		if len(res.OrderIDs) > 0 && wake != nil {
			wake()
		}
		if res.OrderIDs == nil {
			res.OrderIDs = []string{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"duplicate": res.Duplicate, "ignored": res.Ignored, "orders": res.OrderIDs})
	})
}
