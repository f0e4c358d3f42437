package channels

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/order"
)

// Connector fetches a channel's orders changed since a time (the
// reconciliation poll every channel has; pull channels have nothing else).
type Connector interface {
	Poll(ctx context.Context, since time.Time, cursor string) (Page, error)
}

// WebhookConnector is a channel that also pushes orders by webhook.
type WebhookConnector interface {
	Connector
	// VerifyWebhook checks a raw delivery's signature (ErrBadSignature).
	VerifyWebhook(h http.Header, body []byte) error
	// ParseWebhook reads a verified delivery.
	ParseWebhook(ctx context.Context, h http.Header, body []byte) (Webhook, error)
}

// Kind describes one sort of channel and builds its connector.
type Kind struct {
	Name     string
	Webhooks bool
	// Secrets are the settings that are never shown again once saved.
	Secrets []string
	// PollEvery is how often the reconciliation poll runs.
	PollEvery time.Duration
	// New checks settings (field errors name the settings) and builds the
	// connector.
	New func(settings map[string]any, hc *http.Client) (Connector, error)
}

// Channel is a tenant's connection to a sales channel.
type Channel struct {
	ID       string
	TenantID string
	Kind     string
	Name     string
	Active   bool
	// Settings are the non-secret settings; SecretsSet names the secrets
	// that are stored (their values are never read back out).
	Settings   map[string]any
	secrets    map[string]any
	SecretsSet []string
	PollSince  *time.Time // every change up to here has been polled
	PollCursor string     // a poll interrupted mid-way resumes here
	LastPollAt *time.Time
	LastError  string
	LastHookAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Secrets returns the stored secrets (for the store only).
func (c *Channel) Secrets() map[string]any { return c.secrets }

// SetSecrets sets the stored secrets (for the store only).
func (c *Channel) SetSecrets(m map[string]any) { c.secrets = m }

// Store is what channels need from the database.
type Store interface {
	Create(ctx context.Context, c *Channel) error
	Update(ctx context.Context, c *Channel) error
	Get(ctx context.Context, tenantID, id string) (Channel, error)
	// ByID finds a channel whatever its tenant (webhooks arrive without one).
	ByID(ctx context.Context, id string) (Channel, error)
	List(ctx context.Context, tenantID string) ([]Channel, error)
	// All lists every channel of every tenant (the poll scheduler).
	All(ctx context.Context) ([]Channel, error)
	// Seen reports whether a webhook delivery id was applied already.
	Seen(ctx context.Context, channelID, deliveryID string) (bool, error)
	// SeeDelivery records a webhook delivery id as applied (once).
	SeeDelivery(ctx context.Context, channelID, deliveryID string, at time.Time) error
	SetPollState(ctx context.Context, tenantID, id string, since *time.Time, cursor, lastError string, at time.Time) error
	SetHookAt(ctx context.Context, tenantID, id string, at time.Time) error
}

// Service manages channel connections and runs their intake.
type Service struct {
	store  Store
	orders *order.Service
	kinds  map[string]Kind
	hc     *http.Client
	now    func() time.Time
}

// NewService returns the channel service with the kinds it can connect.
func NewService(store Store, orders *order.Service, hc *http.Client, kinds ...Kind) *Service {
	s := &Service{store: store, orders: orders, kinds: map[string]Kind{}, hc: hc, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	for _, k := range kinds {
		s.kinds[k.Name] = k
	}
	return s
}

// Kinds lists the kinds of channel that can be connected.
func (s *Service) Kinds() []Kind {
	var out []Kind
	for _, k := range s.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KindOf returns a kind by name.
func (s *Service) KindOf(name string) (Kind, bool) {
	k, ok := s.kinds[name]
	return k, ok
}

var nameRe = regexp.MustCompile(`^\S.{0,79}$`)

// Input creates or changes a channel. Settings hold the kind's settings,
// secrets included (they are split off and stored apart).
type Input struct {
	Kind     string
	Name     string
	Active   *bool
	Settings map[string]any
}

func (s *Service) connector(c Channel) (Connector, error) {
	k, ok := s.kinds[c.Kind]
	if !ok {
		return nil, errs.E("channels.connector", errs.Invalid, "this waybill cannot connect "+c.Kind+" channels")
	}
	all := map[string]any{}
	for key, v := range c.Settings {
		all[key] = v
	}
	for key, v := range c.secrets {
		all[key] = v
	}
	return k.New(all, s.hc)
}

// Create connects a channel. Its settings are checked by building the
// connector; secrets are kept and never shown again.
func (s *Service) Create(ctx context.Context, tenantID string, in Input) (Channel, error) {
	const op = "channels.Create"
	k, ok := s.kinds[in.Kind]
	if !ok {
		var names []string
		for n := range s.kinds {
			names = append(names, n)
		}
		sort.Strings(names)
		return Channel{}, errs.InvalidFields(op, errs.FieldError{Field: "kind", Message: "must be one of " + strings.Join(names, ", "), Value: in.Kind})
	}
	name := strings.TrimSpace(in.Name)
	if !nameRe.MatchString(name) {
		return Channel{}, errs.InvalidFields(op, errs.FieldError{Field: "name", Message: "must be 1 to 80 characters", Value: in.Name})
	}
	now := s.now()
	c := Channel{ID: id.New("chn"), TenantID: tenantID, Kind: k.Name, Name: name, Active: true, CreatedAt: now, UpdatedAt: now}
	if in.Active != nil {
		c.Active = *in.Active
	}
	c.Settings, c.secrets = split(k, in.Settings)
	if _, err := s.connector(c); err != nil {
		return Channel{}, err
	}
	c.SecretsSet = secretNames(c.secrets)
	// Start the reconciliation poll from now: older orders come in by CSV
	// import; webhooks and polls carry what happens from here on.
	c.PollSince = &now
	if err := s.store.Create(ctx, &c); err != nil {
		return Channel{}, err
	}
	return c, nil
}

// Update changes a channel's name, active flag or settings; secrets not
// given are kept.
func (s *Service) Update(ctx context.Context, tenantID, id string, in Input) (Channel, error) {
	const op = "channels.Update"
	c, err := s.store.Get(ctx, tenantID, id)
	if err != nil {
		return Channel{}, err
	}
	if in.Name != "" {
		name := strings.TrimSpace(in.Name)
		if !nameRe.MatchString(name) {
			return Channel{}, errs.InvalidFields(op, errs.FieldError{Field: "name", Message: "must be 1 to 80 characters", Value: in.Name})
		}
		c.Name = name
	}
	if in.Active != nil {
		c.Active = *in.Active
	}
	if len(in.Settings) > 0 {
		plain, secret := split(s.kinds[c.Kind], in.Settings)
		for key, v := range plain {
			c.Settings[key] = v
		}
		for key, v := range secret {
			c.secrets[key] = v
		}
		if _, err := s.connector(c); err != nil {
			return Channel{}, err
		}
		c.SecretsSet = secretNames(c.secrets)
		c.LastError = ""
	}
	c.UpdatedAt = s.now()
	if err := s.store.Update(ctx, &c); err != nil {
		return Channel{}, err
	}
	return c, nil
}

func split(k Kind, settings map[string]any) (plain, secret map[string]any) {
	plain, secret = map[string]any{}, map[string]any{}
	for key, v := range settings {
		if v == nil || v == "" {
			continue
		}
		if slices.Contains(k.Secrets, key) {
			secret[key] = v
		} else {
			plain[key] = v
		}
	}
	return plain, secret
}

func secretNames(m map[string]any) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Get returns one channel.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Channel, error) {
	return s.store.Get(ctx, tenantID, id)
}

// List returns the tenant's channels.
func (s *Service) List(ctx context.Context, tenantID string) ([]Channel, error) {
	return s.store.List(ctx, tenantID)
}

// Result is what a webhook delivery did.
type Result struct {
	ChannelID string
	TenantID  string
	Duplicate bool
	Ignored   bool
	Outcomes  []order.Outcome
	OrderIDs  []string
}

// Receive takes a raw webhook delivery for a channel: it verifies the
// signature (ErrBadSignature, nothing changed), drops deliveries already
// seen, and syncs the orders it carries. A malformed payload is Invalid.
func (s *Service) Receive(ctx context.Context, channelID string, h http.Header, body []byte) (Result, error) {
	const op = "channels.Receive"
	c, err := s.store.ByID(ctx, channelID)
	if err != nil {
		return Result{}, err
	}
	res := Result{ChannelID: c.ID, TenantID: c.TenantID}
	conn, err := s.connector(c)
	if err != nil {
		return res, err
	}
	wc, ok := conn.(WebhookConnector)
	if !ok {
		return res, errs.E(op, errs.NotExist, "this channel does not take webhooks")
	}
	if err := wc.VerifyWebhook(h, body); err != nil {
		return res, err
	}
	if !c.Active {
		res.Ignored = true
		return res, nil
	}
	w, err := wc.ParseWebhook(ctx, h, body)
	if err != nil {
		return res, err
	}
	now := s.now()
	_ = s.store.SetHookAt(ctx, c.TenantID, c.ID, now)
	if w.ID != "" {
		seen, err := s.store.Seen(ctx, c.ID, w.ID)
		if err != nil {
			return res, err
		}
		if seen {
			res.Duplicate = true
			return res, nil
		}
	}
	if w.Ignored {
		res.Ignored = true
	}
	if err := s.sync(ctx, c, w.Orders, &res); err != nil {
		return res, err
	}
	// Only a delivery that was fully applied counts as seen, so a failed
	// one is applied again when the channel retries it.
	if w.ID != "" {
		if err := s.store.SeeDelivery(ctx, c.ID, w.ID, now); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Service) sync(ctx context.Context, c Channel, ins []order.Input, res *Result) error {
	for _, in := range ins {
		in.ChannelID = c.ID
		if in.Channel == "" {
			in.Channel = c.Kind
		}
		in.AllowUnknownSKUs = true
		o, outcome, err := s.orders.Sync(ctx, c.TenantID, in, "channel:"+c.Name)
		if err != nil {
			return err
		}
		res.Outcomes = append(res.Outcomes, outcome)
		res.OrderIDs = append(res.OrderIDs, o.ID)
	}
	return nil
}

// Due lists active channels whose reconciliation poll is due.
func (s *Service) Due(ctx context.Context) ([]Channel, error) {
	all, err := s.store.All(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Channel
	for _, c := range all {
		k, ok := s.kinds[c.Kind]
		if !ok || !c.Active {
			continue
		}
		if c.LastPollAt == nil || now.Sub(*c.LastPollAt) >= k.PollEvery {
			out = append(out, c)
		}
	}
	return out, nil
}

// overlap re-reads a little of what the last poll saw, so an order changed
// while that poll ran is not missed; the order service ignores what it has.
const overlap = 5 * time.Minute

// maxPages bounds one poll run; the cursor carries on at the next run.
const maxPages = 20

// Poll runs a channel's reconciliation: every order changed since the last
// poll is synced (creating those a lost webhook never brought). It returns
// how many orders it created or changed.
func (s *Service) Poll(ctx context.Context, tenantID, id string) (int, error) {
	c, err := s.store.Get(ctx, tenantID, id)
	if err != nil {
		return 0, err
	}
	conn, err := s.connector(c)
	if err != nil {
		return 0, err
	}
	start := s.now()
	since := start.Add(-24 * time.Hour)
	if c.PollSince != nil {
		since = c.PollSince.Add(-overlap)
	}
	cursor := c.PollCursor
	changed := 0
	for page := 0; page < maxPages; page++ {
		p, err := conn.Poll(ctx, since, cursor)
		if err != nil {
			_ = s.store.SetPollState(ctx, c.TenantID, c.ID, c.PollSince, cursor, err.Error(), s.now())
			var auth ErrAuth
			var th ErrThrottled
			switch {
			case errors.As(err, &auth):
				return changed, errs.E("channels.Poll", errs.Invalid, err)
			case errors.As(err, &th):
				return changed, errs.E("channels.Poll", errs.Transient, err)
			}
			return changed, err
		}
		var res Result
		if err := s.sync(ctx, c, p.Orders, &res); err != nil {
			_ = s.store.SetPollState(ctx, c.TenantID, c.ID, c.PollSince, cursor, err.Error(), s.now())
			return changed, err
		}
		for _, o := range res.Outcomes {
			if o != order.OutcomeUnchanged {
				changed++
			}
		}
		cursor = p.Next
		if cursor == "" {
			return changed, s.store.SetPollState(ctx, c.TenantID, c.ID, &start, "", warning(conn), s.now())
		}
	}
	return changed, s.store.SetPollState(ctx, c.TenantID, c.ID, c.PollSince, cursor, warning(conn), s.now())
}

// warning is what a connector that polled successfully still wants people
// to know (Amazon without the role that shows addresses, say), shown on
// the connection as its last error.
func warning(c Connector) string {
	if w, ok := c.(interface{ Warning() error }); ok {
		if err := w.Warning(); err != nil {
			return err.Error()
		}
	}
	return ""
}
