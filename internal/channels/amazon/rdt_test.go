package amazon

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// janeAddress is the first testdata order's address as getOrders returns
// it with a Restricted Data Token.
var janeAddress = order.Address{
	Name: "Jane Buyer", Line1: "1 Cross St.", Line2: "Apt 4", City: "Canton", Region: "MI",
	PostalCode: "48817", Country: "US", Phone: "+1 555-010-0199",
}

func TestPollUsesRestrictedDataToken(t *testing.T) {
	f := newFakeAmazon(t)
	c, slept := f.client()
	ctx := context.Background()

	p1, err := c.Poll(ctx, since, "")
	if err != nil {
		t.Fatal(err)
	}
	o := p1.Orders[0]
	if o.ShippingAddress == nil || *o.ShippingAddress != janeAddress {
		t.Errorf("shipping address = %+v, want %+v", o.ShippingAddress, janeAddress)
	}
	if o.Customer.Name != "Jane Buyer" || o.Customer.Email != "k7x2b3qv9w@marketplace.amazon.com" {
		t.Errorf("customer = %+v", o.Customer)
	}
	if f.rdtsIssued != 1 || len(f.orderTokens) != 1 || f.orderTokens[0] != "Atz.sprdt|rdt-1" {
		t.Fatalf("RDTs issued %d, getOrders called with %v; want the RDT", f.rdtsIssued, f.orderTokens)
	}
	// getOrderItems needs no RDT (the fake takes only the LWA token there).
	if len(f.itemCalls) != 4 {
		t.Errorf("getOrderItems calls = %v", f.itemCalls)
	}
	if err := c.Warning(); err != nil {
		t.Errorf("Warning = %v with an RDT", err)
	}

	// The next page, and the next poll, reuse the RDT.
	p2, err := c.Poll(ctx, since, p1.Next)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Poll(ctx, since, ""); err != nil {
		t.Fatal(err)
	}
	if f.rdtCalls != 1 || f.tokensIssued != 1 {
		t.Errorf("createRestrictedDataToken called %d times, LWA tokens %d; want 1 and 1 (both cached)", f.rdtCalls, f.tokensIssued)
	}
	if got := p2.Orders[0].Customer.Email; got != "z1y2x3w4v5@marketplace.amazon.com" {
		t.Errorf("page 2 buyer e-mail = %q", got)
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v", *slept)
	}
	for _, in := range append(p1.Orders, p2.Orders...) {
		if err := order.Check(in); err != nil {
			t.Errorf("order %s does not pass order.Check: %v", in.ExternalID, err)
		}
	}
}

func TestPollWithoutRestrictedRolesFallsBack(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		code   string
	}{
		{"403 Unauthorized", http.StatusForbidden, "Unauthorized"},
		{"400 InvalidInput", http.StatusBadRequest, "InvalidInput"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAmazon(t)
			f.rdtRefuse = tt.status
			c, _ := f.client()
			now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
			c.Now = func() time.Time { return now }
			ctx := context.Background()

			p, err := c.Poll(ctx, since, "")
			if err != nil {
				t.Fatalf("Poll failed over a refused RDT: %v", err)
			}
			if len(p.Orders) != 3 || p.Next == "" {
				t.Fatalf("got %d orders, next %q", len(p.Orders), p.Next)
			}
			o := p.Orders[0]
			if o.ShippingAddress != nil || o.Customer.Email != "" || o.Customer.Name != "" {
				t.Errorf("without an RDT: address %+v customer %+v", o.ShippingAddress, o.Customer)
			}
			if !strings.HasPrefix(f.orderTokens[0], "Atza|") {
				t.Errorf("getOrders called with %q, want the LWA token", f.orderTokens[0])
			}
			for _, in := range p.Orders {
				if err := order.Check(in); err != nil {
					t.Errorf("order %s does not pass order.Check: %v", in.ExternalID, err)
				}
			}
			w := c.Warning()
			var nr ErrNoRestrictedData
			if !errors.As(w, &nr) || !strings.Contains(w.Error(), tt.code) {
				t.Fatalf("Warning = %v, want ErrNoRestrictedData naming %s", w, tt.code)
			}
			// The credentials are good: the warning must not read as if
			// they were not.
			var ae channels.ErrAuth
			if errors.As(w, &ae) {
				t.Errorf("Warning %v is an ErrAuth", w)
			}

			// Within the hour the refusal is believed: no more asking.
			calls := f.rdtCalls
			now = now.Add(59 * time.Minute)
			if _, err := c.Poll(ctx, since, p.Next); err != nil {
				t.Fatal(err)
			}
			if f.rdtCalls != calls || c.Warning() == nil {
				t.Errorf("createRestrictedDataToken called %d more times within the hour; warning %v", f.rdtCalls-calls, c.Warning())
			}

			// The role granted, the next ask after the hour gets an RDT.
			f.rdtRefuse = 0
			now = now.Add(2 * time.Minute)
			p, err = c.Poll(ctx, since, "")
			if err != nil {
				t.Fatal(err)
			}
			if a := p.Orders[0].ShippingAddress; a == nil || *a != janeAddress {
				t.Errorf("after the role was granted: address %+v", a)
			}
			if w := c.Warning(); w != nil {
				t.Errorf("Warning = %v after an RDT was issued", w)
			}
		})
	}
}

func TestRestrictedDataTokenRenewedBeforeExpiry(t *testing.T) {
	tests := []struct {
		name    string
		life    int           // expiresIn
		reuse   time.Duration // still cached here
		renewAt time.Duration // renewed here
	}{
		{"an hour", 3600, 58 * time.Minute, 59*time.Minute + 30*time.Second},
		{"five minutes", 300, 4 * time.Minute, 4*time.Minute + 31*time.Second}, // a tenth early: 270 s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAmazon(t)
			f.rdtLife = tt.life
			c, _ := f.client()
			start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
			now := start
			c.Now = func() time.Time { return now }
			ctx := context.Background()
			if _, err := c.Poll(ctx, since, ""); err != nil {
				t.Fatal(err)
			}
			now = start.Add(tt.reuse)
			if _, err := c.Poll(ctx, since, ""); err != nil || f.rdtsIssued != 1 {
				t.Fatalf("after %v: RDTs issued %d, err %v; want the cached one", tt.reuse, f.rdtsIssued, err)
			}
			now = start.Add(tt.renewAt)
			f.expireRDTs() // Amazon would no longer take it either
			p, err := c.Poll(ctx, since, "")
			if err != nil || f.rdtsIssued != 2 {
				t.Fatalf("after %v: RDTs issued %d, err %v; want a fresh one", tt.renewAt, f.rdtsIssued, err)
			}
			if got := f.orderTokens[len(f.orderTokens)-1]; got != "Atz.sprdt|rdt-2" {
				t.Errorf("getOrders called with %q", got)
			}
			if p.Orders[0].ShippingAddress == nil {
				t.Error("no address with the fresh RDT")
			}
		})
	}
}

func TestRestrictedDataTokenRejectedEarly(t *testing.T) {
	f := newFakeAmazon(t)
	c, _ := f.client()
	ctx := context.Background()
	if _, err := c.Poll(ctx, since, ""); err != nil {
		t.Fatal(err)
	}
	// Amazon drops the RDT before the client thinks it expires: getOrders
	// answers 403, and the client gets new tokens and tries once more.
	f.expireRDTs()
	p, err := c.Poll(ctx, since, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.rdtsIssued != 2 || p.Orders[0].ShippingAddress == nil {
		t.Errorf("RDTs issued %d, address %+v", f.rdtsIssued, p.Orders[0].ShippingAddress)
	}
	if c.Warning() != nil {
		t.Errorf("Warning = %v", c.Warning())
	}
}

func TestRestrictedDataTokenThrottled(t *testing.T) {
	t.Run("backs off and gets it", func(t *testing.T) {
		f := newFakeAmazon(t)
		f.throttleRDT = 2
		c, slept := f.client()
		p, err := c.Poll(context.Background(), since, "")
		if err != nil {
			t.Fatal(err)
		}
		// One token's time at createRestrictedDataToken's 1/s, doubled.
		if s := *slept; len(s) != 2 || s[0] != time.Second || s[1] != 2*time.Second {
			t.Errorf("backoff = %v, want [1s 2s]", s)
		}
		if f.rdtCalls != 3 || p.Orders[0].ShippingAddress == nil {
			t.Errorf("createRestrictedDataToken called %d times; address %+v", f.rdtCalls, p.Orders[0].ShippingAddress)
		}
	})
	t.Run("gives up without polling", func(t *testing.T) {
		f := newFakeAmazon(t)
		f.throttleRDT = 100
		c, slept := f.client()
		_, err := c.Poll(context.Background(), since, "")
		var te channels.ErrThrottled
		if !errors.As(err, &te) || !errs.Is(errs.Transient, err) {
			t.Fatalf("err = %v, want a transient ErrThrottled", err)
		}
		// Orders polled without their addresses would never get them (a
		// later poll brings the same LastUpdateDate): none are polled.
		if len(f.orderCalls) != 0 || c.Warning() != nil {
			t.Errorf("getOrders called %d times, warning %v", len(f.orderCalls), c.Warning())
		}
		if len(*slept) != c.MaxRetries || f.rdtCalls != c.MaxRetries+1 {
			t.Errorf("slept %d times over %d calls", len(*slept), f.rdtCalls)
		}
	})
	t.Run("server error", func(t *testing.T) {
		f := newFakeAmazon(t)
		f.fail500RDT = true
		c, _ := f.client()
		_, err := c.Poll(context.Background(), since, "")
		if !errs.Is(errs.Transient, err) || !strings.Contains(err.Error(), "InternalFailure") || len(f.orderCalls) != 0 {
			t.Errorf("err = %v after %d getOrders calls, want a transient error and none", err, len(f.orderCalls))
		}
	})
	t.Run("paced", func(t *testing.T) {
		f := newFakeAmazon(t)
		c, _ := f.client()
		c.TokensLimiter = New(Config{Region: "na"}, nil).TokensLimiter
		c.TokensLimiter.SetBurst(1)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		for range 2 {
			if _, _, err := c.createRDT(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The second waits for the limiter's 1/s.
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("two createRestrictedDataToken calls in %v at 1/s, burst 1", d)
		}
	})
}
