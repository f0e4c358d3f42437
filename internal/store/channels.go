package store

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
)

// Channels stores sales-channel connections.
type Channels struct{ db *DB }

// NewChannels returns the channel store.
func NewChannels(db *DB) *Channels { return &Channels{db: db} }

const channelCols = `id, tenant_id, kind, name, active, settings, secrets, poll_since, poll_cursor, last_poll_at, last_error, last_hook_at, created_at, updated_at`

func scanChannel(row interface{ Scan(...any) error }) (channels.Channel, error) {
	var c channels.Channel
	var settings, secrets string
	if err := row.Scan(&c.ID, &c.TenantID, &c.Kind, &c.Name, &c.Active, &settings, &secrets, &c.PollSince, &c.PollCursor, &c.LastPollAt,
		&c.LastError, &c.LastHookAt, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	c.Settings = map[string]any{}
	_ = json.Unmarshal([]byte(settings), &c.Settings)
	sec := map[string]any{}
	_ = json.Unmarshal([]byte(secrets), &sec)
	c.SetSecrets(sec)
	c.SecretsSet = []string{}
	for k := range sec {
		c.SecretsSet = append(c.SecretsSet, k)
	}
	sort.Strings(c.SecretsSet)
	return c, nil
}

func (s *Channels) Create(ctx context.Context, c *channels.Channel) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO channels (`+channelCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.TenantID, c.Kind, c.Name, c.Active, jsonText(c.Settings), jsonText(c.Secrets()), c.PollSince, c.PollCursor, c.LastPollAt, c.LastError,
		c.LastHookAt, c.CreatedAt, c.UpdatedAt)
	return channelErr("store.CreateChannel", err)
}

func channelErr(op string, err error) error {
	if dup, detail := isUniqueViolation(err); dup && violates(detail, "channels_name", "channels.name") {
		return errs.InvalidFields(op, errs.FieldError{Field: "name", Message: "another channel has this name"})
	}
	return wrap(op, err)
}

func (s *Channels) Update(ctx context.Context, c *channels.Channel) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE channels SET name = $3, active = $4, settings = $5, secrets = $6, last_error = $7, updated_at = $8
		WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.ID, c.Name, c.Active, jsonText(c.Settings), jsonText(c.Secrets()), c.LastError, c.UpdatedAt)
	if err != nil {
		return channelErr("store.UpdateChannel", err)
	}
	return affected("store.UpdateChannel", "channel", res, nil)
}

func (s *Channels) Get(ctx context.Context, tenantID, id string) (channels.Channel, error) {
	c, err := scanChannel(s.db.R.QueryRowContext(ctx, `SELECT `+channelCols+` FROM channels WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return c, notFound("store.Channel", "channel", err)
}

func (s *Channels) ByID(ctx context.Context, id string) (channels.Channel, error) {
	c, err := scanChannel(s.db.R.QueryRowContext(ctx, `SELECT `+channelCols+` FROM channels WHERE id = $1`, id))
	return c, notFound("store.Channel", "channel", err)
}

func (s *Channels) list(ctx context.Context, where string, args ...any) ([]channels.Channel, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+channelCols+` FROM channels `+where+` ORDER BY tenant_id, name`, args...)
	if err != nil {
		return nil, wrap("store.Channels", err)
	}
	defer rows.Close()
	var out []channels.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, wrap("store.Channels", err)
		}
		out = append(out, c)
	}
	return out, wrap("store.Channels", rows.Err())
}

func (s *Channels) List(ctx context.Context, tenantID string) ([]channels.Channel, error) {
	return s.list(ctx, `WHERE tenant_id = $1`, tenantID)
}

func (s *Channels) All(ctx context.Context) ([]channels.Channel, error) {
	return s.list(ctx, `WHERE active`)
}

func (s *Channels) Seen(ctx context.Context, channelID, deliveryID string) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_deliveries WHERE channel_id = $1 AND delivery_id = $2`, channelID, deliveryID).Scan(&n)
	return n > 0, wrap("store.SeenDelivery", err)
}

func (s *Channels) SeeDelivery(ctx context.Context, channelID, deliveryID string, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO channel_deliveries (channel_id, delivery_id, received_at) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id, delivery_id) DO NOTHING`, channelID, deliveryID, at)
	return wrap("store.SeeDelivery", err)
}

func (s *Channels) SetPollState(ctx context.Context, tenantID, id string, since *time.Time, cursor, lastError string, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE channels SET poll_since = $3, poll_cursor = $4, last_error = $5, last_poll_at = $6 WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, since, cursor, truncate(lastError, 1000), at)
	return wrap("store.SetPollState", err)
}

func (s *Channels) SetHookAt(ctx context.Context, tenantID, id string, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE channels SET last_hook_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, id, at)
	return wrap("store.SetHookAt", err)
}

// PruneDeliveries forgets webhook delivery ids older than age (channels
// retry for 48 hours at most).
func (s *Channels) PruneDeliveries(ctx context.Context, age time.Duration) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM channel_deliveries WHERE received_at < $1`, Now().Add(-age))
	if err != nil {
		return 0, wrap("store.PruneDeliveries", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
