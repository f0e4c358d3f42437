package amazon

import (
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
	return channels.Kind{
		Name:      "amazon",
		Webhooks:  false,
		Secrets:   []string{"client_secret", "refresh_token"},
		PollEvery: 10 * time.Minute,
		New:       channels.CachedBuilder("amazon.Config", New),
	}
}
