package ebay

import (
	"time"

	"github.com/waybill/waybill/internal/channels"
)

var _ channels.Connector = (*Client)(nil)

// Kind describes eBay connections to the channel service. Orders come by
// polling getOrders (eBay's notifications are not used).
//
// The channel service builds a connector for every poll; the Kind keeps one
// Client per distinct configuration and hands it out again, so the access
// token (two hours) and the pacing outlive a single poll.
func Kind() channels.Kind {
	return channels.Kind{
		Name:      "ebay",
		Webhooks:  false,
		Secrets:   []string{"client_secret", "refresh_token"},
		PollEvery: 10 * time.Minute,
		New:       channels.CachedBuilder("ebay.Config", New),
	}
}
