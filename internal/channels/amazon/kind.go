package amazon

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/channels"
)

var _ channels.Connector = (*Client)(nil)

// Kind describes Amazon connections to the channel service. Amazon pushes
// nothing here: every order comes by polling.
//
// The channel service builds a connector for every poll, but Amazon's usage
// plans are counted per seller across calls, and a fresh limiter would start
// each poll with a full burst Amazon no longer has. So the Kind keeps one
// Client per distinct configuration and hands it out again: its limiters
// and its tokens (access and restricted data, and a refusal of the latter)
// outlive a single poll.
func Kind() channels.Kind {
	var mu sync.Mutex
	clients := map[[32]byte]*Client{}
	return channels.Kind{
		Name:      "amazon",
		Webhooks:  false,
		Secrets:   []string{"client_secret", "refresh_token"},
		PollEvery: 10 * time.Minute,
		New: func(settings map[string]any, hc *http.Client) (channels.Connector, error) {
			var cfg Config
			if err := channels.DecodeSettings("amazon.Config", settings, &cfg); err != nil {
				return nil, err
			}
			if err := cfg.Validate(); err != nil {
				return nil, err
			}
			b, _ := json.Marshal(cfg)
			key := sha256.Sum256(b)
			mu.Lock()
			defer mu.Unlock()
			if c, ok := clients[key]; ok {
				return c, nil
			}
			if len(clients) >= 10_000 { // settings edited many times over: start over
				clear(clients)
			}
			c := New(cfg, hc)
			clients[key] = c
			return c, nil
		},
	}
}
