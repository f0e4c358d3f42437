package spapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

// TokenError is the LWA token endpoint refusing the refresh-token grant:
// its HTTP status and OAuth error ("invalid_grant" for a revoked or wrong
// refresh token, "invalid_client" for a wrong client id or secret).
type TokenError struct {
	Status      int
	Code        string
	Description string
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("token endpoint: HTTP %d %s: %s", e.Status, e.Code, e.Description)
}

// AccessToken returns the cached LWA access token, or exchanges the refresh
// token for a new one when the cached one is missing or about to expire.
// A refusal is Unauthenticated (new credentials are needed), a 429 a
// Transient *ThrottledError, a 5xx or network failure Transient.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	const op = "spapi.accessToken"
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {strings.TrimSpace(c.cfg.RefreshToken)},
		"client_id":     {strings.TrimSpace(c.cfg.ClientID)},
		"client_secret": {strings.TrimSpace(c.cfg.ClientSecret)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", errs.E(op, errs.Transient, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", errs.E(op, errs.Transient, err)
	}
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		te := &TokenError{Status: resp.StatusCode, Code: oe.Error, Description: oe.Description}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			return "", errs.E(op, errs.Transient, &ThrottledError{After: Backoff(0, 0, resp.Header), Err: te})
		case resp.StatusCode >= 500:
			return "", errs.E(op, errs.Transient, te)
		default:
			// invalid_grant, invalid_client, unauthorized_client: new
			// credentials are needed.
			return "", errs.E(op, errs.Unauthenticated, te)
		}
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", errs.E(op, errs.Transient, errors.New("token endpoint: no access_token in the answer"))
	}
	life := time.Hour // LWA access tokens last one hour
	if tr.ExpiresIn > 0 && tr.ExpiresIn < 1e6 {
		life = time.Duration(tr.ExpiresIn) * time.Second
	}
	c.token, c.expires = tr.AccessToken, c.Now().Add(Life(life))
	return c.token, nil
}

// forgetToken drops the cached access token (Amazon refused it early).
func (c *Client) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

// Life is how long a token issued with a lifetime of life should be used:
// a minute less (a tenth less, for short lives), so that it never expires
// between our check and Amazon's. Callers caching other tokens (a
// Restricted Data Token) use the same margin.
func Life(life time.Duration) time.Duration { return life - min(time.Minute, life/10) }
