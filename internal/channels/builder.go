package channels

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"sync"
)

// Settings is a connector's configuration: decoded from a channel's
// settings and checked before the connector is built.
type Settings interface{ Validate() error }

// Builder returns a Kind's New: it decodes the channel's settings into a C,
// validates them (field errors named as the settings are) and builds the
// connector with build.
func Builder[C Settings, X Connector](op string, build func(C, *http.Client) X) func(map[string]any, *http.Client) (Connector, error) {
	return func(settings map[string]any, hc *http.Client) (Connector, error) {
		var cfg C
		if err := DecodeSettings(op, settings, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return build(cfg, hc), nil
	}
}

// CachedBuilder is Builder for connectors whose state must outlive a poll
// (token caches, rate limiters counted per seller by the vendor): it keeps
// one connector per distinct configuration and hands it out again.
func CachedBuilder[C Settings, X Connector](op string, build func(C, *http.Client) X) func(map[string]any, *http.Client) (Connector, error) {
	var mu sync.Mutex
	built := map[[32]byte]X{}
	return Builder(op, func(cfg C, hc *http.Client) X {
		b, _ := json.Marshal(cfg)
		key := sha256.Sum256(b)
		mu.Lock()
		defer mu.Unlock()
		if c, ok := built[key]; ok {
			return c
		}
		if len(built) >= 10_000 { // settings edited many times over: start over
			clear(built)
		}
		c := build(cfg, hc)
		built[key] = c
		return c
	})
}
