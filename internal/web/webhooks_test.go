package web_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/web"
	"github.com/waybill/waybill/internal/webhook"
)

// notifyFixture is the dashboard fixture with webhooks, the bell and the
// jobs page wired, under the production URL policy (https, public
// addresses only).
type notifyFixture struct {
	*fixture
	ns    *notify.Service
	log   *store.Notify
	jobs  *store.Jobs
	wakes atomic.Int32
}

func newNotifyFixture(t *testing.T, e testenv.Engine) *notifyFixture {
	t.Helper()
	f := newFixture(t, e)
	nf := &notifyFixture{fixture: f, log: store.NewNotify(f.db), jobs: store.NewJobs(f.db)}
	nf.ns = notify.NewService(nf.log, webhook.Policy{}.CheckURL, webhook.NewSecret)
	h := web.New(web.Deps{Config: config.Defaults(), Log: slog.New(slog.NewTextHandler(f.logs, nil)),
		Auth: f.auth, Catalog: f.catalog, Inventory: f.inv, Sessions: store.NewSessions(f.db),
		Notify: nf.ns, NotifyLog: nf.log, Jobs: nf.jobs, Wake: func() { nf.wakes.Add(1) }})
	f.srv = httptest.NewServer(withRequestID(h))
	t.Cleanup(f.srv.Close)
	return nf
}

// deliver fans out pending events and makes one attempt of each pending
// delivery of the endpoint, answered with res. One attempt is the whole
// schedule here, so a failure is final.
func (nf *notifyFixture) deliver(tn auth.Tenant, endpointID string, res notify.Result) {
	nf.t.Helper()
	ctx := nf.t.Context()
	if _, err := nf.ns.Relay(ctx); err != nil {
		nf.t.Fatal(err)
	}
	dl := notify.NewDeliverer(nf.log, func(context.Context, string, []string, string, time.Time, []byte) notify.Result { return res })
	dl.Schedule = []time.Duration{0}
	ds, _, err := nf.ns.Deliveries(ctx, tn.ID, endpointID, "", 100)
	if err != nil {
		nf.t.Fatal(err)
	}
	for _, d := range ds {
		if d.Status == "pending" {
			if err := dl.Deliver(ctx, tn.ID, d.ID); err != nil {
				nf.t.Fatal(err)
			}
		}
	}
}

var secretRe = regexp.MustCompile(`value="(whsec_[^"]+)"`)

// shownSecret is the secret on a page, as the browser reads it.
func shownSecret(t *testing.T, body string) string {
	t.Helper()
	m := secretRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no secret on the page")
	}
	return html.UnescapeString(m[1])
}

func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newNotifyFixture(t, e)
		ctx := t.Context()
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/settings/webhooks")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "No endpoints yet", `action="/settings/webhooks"`, `name="event" value="*" checked`,
			`value="inventory.low_stock"`, `value="reservation.*"`, `href="/settings/webhooks"`)

		// Refusals name their field, beside it and in the summary.
		for _, tc := range []struct {
			name string
			form url.Values
			want []string
		}{
			{"plain http", url.Values{"url": {"http://hooks.example.com/x"}, "event": {"*"}}, []string{"URL: must use https.", `aria-invalid="true"`, "Must use https"}},
			{"loopback", url.Values{"url": {"https://127.0.0.1/hook"}, "event": {"*"}}, []string{"URL: 127.0.0.1 is a loopback address"}},
			{"metadata", url.Values{"url": {"https://169.254.169.254/latest"}, "event": {"*"}}, []string{"URL: 169.254.169.254 is the cloud metadata address"}},
			{"hex address", url.Values{"url": {"https://0x7f000001/"}, "event": {"*"}}, []string{"URL: 0x7f000001 is 127.0.0.1, a loopback address"}},
			{"no events", url.Values{"url": {"https://hooks.example.com/x"}}, []string{"Events: choose at least one event"}},
			{"bad pattern", url.Values{"url": {"https://hooks.example.com/x"}, "other_events": {"order*"}}, []string{`Events: &#34;order*&#34; must be an event type`}},
		} {
			res, body := c.post("/settings/webhooks", tc.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%s: status %d\n%s", tc.name, res.StatusCode, body)
			}
			wantContains(t, body, tc.want...)
			wantContains(t, body, `value="`+tc.form.Get("url")+`"`, "fixing first")
			wantNotContains(t, body, "whsec_")
		}
		if eps, _ := f.ns.Endpoints(ctx, f.alpha.ID); len(eps) != 0 {
			t.Fatalf("a refused form saved an endpoint: %+v", eps)
		}

		res, body = c.post("/settings/webhooks", url.Values{"url": {"https://hooks.example.com/waybill"}, "description": {"ERP sync"},
			"event": {"inventory.*", "reservation.expired"}, "other_events": {"order.created"}})
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Copy the signing secret now", "shown only once", `data-copy="new-secret"`)
		secret := shownSecret(t, body)
		eps, err := f.ns.Endpoints(ctx, f.alpha.ID)
		if err != nil || len(eps) != 1 {
			t.Fatalf("endpoints: %+v %v", eps, err)
		}
		ep := eps[0]
		if ep.Secret != secret || ep.URL != "https://hooks.example.com/waybill" || ep.Description != "ERP sync" ||
			strings.Join(ep.Events, " ") != "inventory.* order.created reservation.expired" {
			t.Fatalf("stored endpoint %+v, shown secret %s", ep, secret)
		}

		// The secret is never shown again.
		res, body = c.get("/settings/webhooks")
		wantStatus(t, res, body, http.StatusOK)
		wantNotContains(t, body, "whsec_", "Copy the signing secret")
		wantContains(t, body, `href="/settings/webhooks/`+ep.ID+`"`, "ERP sync", "<code>inventory.*</code>", "Enabled")
		res, body = c.get("/settings/webhooks/" + ep.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantNotContains(t, body, "whsec_")
		wantContains(t, body, "No deliveries yet", "Rotate secret", "Disable")

		// Rotation shows the new secret once; the old one still signs.
		res, body = c.post("/settings/webhooks/"+ep.ID+"/rotate-secret", nil)
		wantStatus(t, res, body, http.StatusOK)
		secret = shownSecret(t, body)
		rotated, _ := f.ns.Endpoint(ctx, f.alpha.ID, ep.ID)
		if secret != rotated.Secret || rotated.Secret == ep.Secret || rotated.PreviousSecret != ep.Secret {
			t.Fatalf("rotation: shown %v, stored %+v", secret, rotated)
		}
		wantContains(t, body, "Copy the new secret now", "signed with both")
		_, body = c.get("/settings/webhooks/" + ep.ID)
		wantNotContains(t, body, "whsec_")
		wantContains(t, body, "rotated; the old one signs until")

		res, _ = c.post("/settings/webhooks/"+ep.ID+"/disable", nil)
		wantRedirect(t, res, "/settings/webhooks/"+ep.ID)
		_, body = c.get("/settings/webhooks/" + ep.ID)
		wantContains(t, body, "Endpoint disabled.", "Disabled: disabled by a user", `action="/settings/webhooks/`+ep.ID+`/enable"`)
		_, body = c.get("/settings/webhooks")
		wantContains(t, body, "disabled by a user", `class="is-revoked"`)
		res, _ = c.post("/settings/webhooks/"+ep.ID+"/enable", nil)
		wantRedirect(t, res, "/settings/webhooks/"+ep.ID)
		if got, _ := f.ns.Endpoint(ctx, f.alpha.ID, ep.ID); got.Status != "active" {
			t.Errorf("after enable: %s", got.Status)
		}

		res, body = c.get("/settings/webhooks/whe_nope")
		wantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestWebhookDeliveries(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newNotifyFixture(t, e)
		ctx := t.Context()
		st := f.stock(f.alpha)
		ep, err := f.ns.CreateEndpoint(ctx, f.alpha.ID, notify.EndpointInput{URL: "https://hooks.example.com/waybill", Events: []string{"inventory.adjusted"}})
		if err != nil {
			t.Fatal(err)
		}
		f.receive(f.alpha, "MUG", "DEN", "A-01", 5)
		f.deliver(f.alpha, ep.ID, notify.Result{StatusCode: 500, Body: []byte("down for <maintenance>"), Latency: 120 * time.Millisecond, Err: "status 500 Internal Server Error"})
		ds, _, _ := f.ns.Deliveries(ctx, f.alpha.ID, ep.ID, "", 10)
		if len(ds) != 1 || ds[0].Status != "failed" {
			t.Fatalf("deliveries: %+v", ds)
		}
		d := ds[0]

		c := f.signIn("owner@alpha.example")
		res, body := c.get("/settings/webhooks/" + ep.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `href="/settings/webhooks/deliveries/`+d.ID+`"`, "<code>inventory.adjusted</code>", `badge failed`,
			`title="status 500 Internal Server Error">500 Internal Server Error</td>`, "120 ms", `<td class="num">1</td>`, "failing")

		res, body = c.get("/settings/webhooks/deliveries/" + d.ID)
		wantStatus(t, res, body, http.StatusOK)
		// The request as sent (headers and body), and the attempt's answer,
		// escaped.
		wantContains(t, body, "<b>POST</b> https://hooks.example.com/waybill", "<b>webhook-id:</b> "+d.EventID,
			"<b>Content-Type:</b> application/json", "<b>User-Agent:</b> Waybill-Webhooks/1", `&#34;type&#34;: &#34;inventory.adjusted&#34;`,
			`&#34;id&#34;: &#34;`+d.EventID+`&#34;`, st.mug.ID, "Attempt 1", "500 Internal Server Error", "120 ms",
			"down for &lt;maintenance&gt;", `action="/settings/webhooks/deliveries/`+d.ID+`/replay"`)

		res, _ = c.post("/settings/webhooks/deliveries/"+d.ID+"/replay", nil)
		wantRedirect(t, res, "/settings/webhooks/deliveries/"+d.ID)
		if f.wakes.Load() != 1 {
			t.Errorf("the runner was woken %d times", f.wakes.Load())
		}
		_, body = c.get("/settings/webhooks/deliveries/" + d.ID)
		wantContains(t, body, "Delivery queued again", "badge low", "Pending", `disabled title="It is being sent`)
		wantNotContains(t, body, `/replay"`)
		if got, _, _ := f.ns.Delivery(ctx, f.alpha.ID, d.ID); got.Status != "pending" {
			t.Errorf("after replay the delivery is %s", got.Status)
		}
		// Replaying a delivery that is on its way would send it twice.
		res, body = c.post("/settings/webhooks/deliveries/"+d.ID+"/replay", nil)
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "still being sent")

		// The replay goes out and succeeds, under the same webhook-id.
		f.deliver(f.alpha, ep.ID, notify.Result{StatusCode: 204, Latency: 2300 * time.Millisecond})
		_, body = c.get("/settings/webhooks/deliveries/" + d.ID)
		wantContains(t, body, "Succeeded", "Attempt 2", "204 No Content", "2.3 s", "Empty response body.", "Attempt 1")
		if strings.Index(body, "Attempt 2") > strings.Index(body, "Attempt 1") {
			t.Error("attempts are not newest first")
		}
	})
}

func TestWebhooksRolesAndTenants(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newNotifyFixture(t, e)
		ctx := t.Context()
		f.stock(f.alpha)
		ep, err := f.ns.CreateEndpoint(ctx, f.alpha.ID, notify.EndpointInput{URL: "https://hooks.example.com/a", Events: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		f.receive(f.alpha, "MUG", "DEN", "A-01", 5)
		f.deliver(f.alpha, ep.ID, notify.Result{StatusCode: 200})
		ds, _, _ := f.ns.Deliveries(ctx, f.alpha.ID, ep.ID, "", 10)
		if len(ds) == 0 {
			t.Fatal("no delivery")
		}
		d := ds[0]
		posts := []string{"/settings/webhooks", "/settings/webhooks/" + ep.ID + "/disable", "/settings/webhooks/" + ep.ID + "/enable",
			"/settings/webhooks/" + ep.ID + "/rotate-secret", "/settings/webhooks/deliveries/" + d.ID + "/replay", "/settings/notifications"}

		// Viewers and warehouse staff see endpoints and deliveries but change nothing.
		for _, who := range []string{"viewer@alpha.example", "warehouse@alpha.example"} {
			c := f.signIn(who)
			res, body := c.get("/settings/webhooks")
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, "hooks.example.com/a", "your role cannot add or change")
			wantNotContains(t, body, "Add an endpoint", `action="/settings/webhooks"`, "API keys", "Jobs")
			res, body = c.get("/settings/webhooks/" + ep.ID)
			wantStatus(t, res, body, http.StatusOK)
			wantNotContains(t, body, "Rotate secret", "/disable", "whsec_")
			res, body = c.get("/settings/webhooks/deliveries/" + d.ID)
			wantStatus(t, res, body, http.StatusOK)
			wantNotContains(t, body, "Replay")
			for _, p := range posts {
				res, body := c.post(p, url.Values{"url": {"https://evil.example/"}, "event": {"*"}})
				wantStatus(t, res, body, http.StatusForbidden)
			}
			res, body = c.get("/settings/jobs")
			wantStatus(t, res, body, http.StatusForbidden)
		}
		if got, _ := f.ns.Endpoint(ctx, f.alpha.ID, ep.ID); got.Status != "active" || got.Secret != ep.Secret {
			t.Errorf("a read-only role changed the endpoint: %+v", got)
		}
		if eps, _ := f.ns.Endpoints(ctx, f.alpha.ID); len(eps) != 1 {
			t.Errorf("a read-only role added an endpoint")
		}

		// Another tenant's owner finds nothing, and changes nothing.
		c := f.signIn("owner@beta.example")
		for _, p := range []string{"/settings/webhooks/" + ep.ID, "/settings/webhooks/deliveries/" + d.ID} {
			res, body := c.get(p)
			wantStatus(t, res, body, http.StatusNotFound)
			wantNotContains(t, body, "hooks.example.com")
		}
		for _, p := range posts[1:5] {
			res, body := c.post(p, nil)
			wantStatus(t, res, body, http.StatusNotFound)
		}
		_, body := c.get("/settings/webhooks")
		wantNotContains(t, body, "hooks.example.com")
		if got, _ := f.ns.Endpoint(ctx, f.alpha.ID, ep.ID); got.Status != "active" || got.Secret != ep.Secret {
			t.Errorf("tenant B changed tenant A's endpoint: %+v", got)
		}
		if got, _, _ := f.ns.Delivery(ctx, f.alpha.ID, d.ID); got.Status != "succeeded" {
			t.Errorf("tenant B replayed tenant A's delivery: %+v", got)
		}

		// Every form refuses a cross-site POST.
		owner := f.signIn("owner@alpha.example")
		for _, p := range posts {
			res, body := owner.post(p, url.Values{"url": {"https://evil.example/"}, "event": {"*"}}, "Sec-Fetch-Site", "cross-site")
			wantStatus(t, res, body, http.StatusForbidden)
			wantContains(t, body, "sent from another site")
		}
		if eps, _ := f.ns.Endpoints(ctx, f.alpha.ID); len(eps) != 1 || eps[0].Secret != ep.Secret || eps[0].Status != "active" {
			t.Errorf("a cross-site POST changed endpoints: %+v", eps)
		}
		// The same forms from our own pages go through.
		res, _ := owner.post("/settings/webhooks/"+ep.ID+"/disable", nil, "Sec-Fetch-Site", "same-origin", "Origin", f.srv.URL)
		wantRedirect(t, res, "/settings/webhooks/"+ep.ID)
	})
}

func TestNotificationSettingsPage(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newNotifyFixture(t, e)
		c := f.signIn("owner@alpha.example")
		res, body := c.get("/settings/notifications")
		wantStatus(t, res, body, http.StatusOK)
		if n := strings.Count(body, `name="on"`); n != len(notify.EmailKinds) || strings.Count(body, " checked") != n-1 {
			t.Errorf("want %d boxes, all ticked but the customers' order-shipped e-mail (on until turned off; that one off until turned on)", len(notify.EmailKinds))
		}
		wantContains(t, body, "Low stock", "Webhook endpoint disabled", `aria-current="page">Notifications`)

		res, _ = c.post("/settings/notifications", url.Values{"on": {notify.EmailLowStock, notify.EmailNewOrder}})
		wantRedirect(t, res, "/settings/notifications")
		got, err := f.ns.NotificationSettings(t.Context(), f.alpha.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got[notify.EmailLowStock] || !got[notify.EmailNewOrder] || got[notify.EmailWebhookDisabled] || got[notify.EmailOrderShipped] {
			t.Errorf("settings after save: %v", got)
		}
		_, body = c.get("/settings/notifications")
		wantContains(t, body, "E-mail notifications saved.")
		if n := strings.Count(body, " checked"); n != 2 {
			t.Errorf("%d boxes ticked after saving two", n)
		}
		if other, _ := f.ns.NotificationSettings(t.Context(), f.beta.ID); !other[notify.EmailWebhookDisabled] {
			t.Error("tenant A's settings changed tenant B's")
		}

		v := f.signIn("viewer@alpha.example")
		res, body = v.get("/settings/notifications")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "<fieldset disabled>", "your role cannot change")
		wantNotContains(t, body, `action="/settings/notifications"`)
	})
}

func TestJobsPage(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newNotifyFixture(t, e)
		ctx := t.Context()
		enqueue := func(kind, tenant string, payload any) {
			if _, err := f.jobs.Enqueue(ctx, job.NewJob{Kind: kind, TenantID: tenant, Payload: payload}); err != nil {
				t.Fatal(err)
			}
		}
		// Alpha: two deliveries (one fails and will retry, one fails for
		// good), an e-mail queued. Housekeeping (no tenant) fails once.
		// Beta: a delivery that fails with its own URL in the error.
		enqueue(store.JobDeliverWebhook, f.alpha.ID, map[string]string{"delivery_id": "whd_retry"})
		enqueue(store.JobDeliverWebhook, f.alpha.ID, map[string]string{"delivery_id": "whd_dead"})
		enqueue("maintenance.prune", "", nil)
		enqueue(store.JobDeliverWebhook, f.beta.ID, map[string]string{"delivery_id": "whd_beta"})
		now := time.Now().UTC()
		claimed, err := f.jobs.Claim(ctx, "w1", []string{store.JobDeliverWebhook, "maintenance.prune"}, 10, now.Add(time.Second), now.Add(time.Minute))
		if err != nil || len(claimed) != 4 {
			t.Fatalf("claim: %d %v", len(claimed), err)
		}
		for _, j := range claimed {
			var p struct {
				DeliveryID string `json:"delivery_id"`
			}
			_ = j.Decode(&p)
			switch {
			case p.DeliveryID == "whd_retry":
				_, err = f.jobs.Reschedule(ctx, j.ID, "w1", now.Add(5*time.Minute), "status 503 Service Unavailable")
			case p.DeliveryID == "whd_dead":
				_, err = f.jobs.Discard(ctx, j.ID, "w1", now, "connection refused by <alpha's receiver>")
			case p.DeliveryID == "whd_beta":
				_, err = f.jobs.Discard(ctx, j.ID, "w1", now, "lookup secret-beta-hooks.example: no such host")
			default:
				_, err = f.jobs.Reschedule(ctx, j.ID, "w1", now.Add(time.Hour), "database is busy")
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		enqueue(notify.JobEmail, f.alpha.ID, map[string]string{"event_id": "evt_x", "kind": "low_stock"})

		c := f.signIn("owner@alpha.example")
		res, body := c.get("/settings/jobs")
		wantStatus(t, res, body, http.StatusOK)
		row := func(kind string) string {
			m := regexp.MustCompile(`(?s)<tr><th scope="row" class="mono">` + regexp.QuoteMeta(kind) + `</th>(.*?)</tr>`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no row for %s", kind)
			}
			return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " ")
		}
		// Columns: queued, running, retrying, completed, discarded.
		if got := strings.Fields(row(store.JobDeliverWebhook)); strings.Join(got, " ") != "0 0 1 0 1" {
			t.Errorf("webhook.deliver counts = %v (tenant B's job counted?)", got)
		}
		if got := strings.Fields(row(notify.JobEmail)); strings.Join(got, " ") != "1 0 0 0 0" {
			t.Errorf("email counts = %v", got)
		}
		if got := strings.Fields(row("maintenance.prune")); strings.Join(got, " ") != "0 0 1 0 0" {
			t.Errorf("prune counts = %v", got)
		}
		wantContains(t, body, "status 503 Service Unavailable", "connection refused by &lt;alpha&#39;s receiver&gt;", "database is busy",
			`href="/settings/webhooks/deliveries/whd_retry"`, `href="/settings/webhooks/deliveries/whd_dead"`, "failed for good", "retrying", "1 of 10")
		wantNotContains(t, body, "secret-beta-hooks", "whd_beta")
	})
}

func TestNotificationBell(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newNotifyFixture(t, e)
		ctx := t.Context()
		st := f.stock(f.alpha)
		c := f.signIn("owner@alpha.example")

		// The layout loads the bell after the page.
		res, body := c.get("/products")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `hx-get="/notifications/bell" hx-trigger="load"`, `href="/notifications"`)
		res, body = c.get("/notifications/bell", "HX-Request", "true")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "No new notifications")
		wantNotContains(t, body, "bell-count", "<html")

		// MUG falls to its reorder point at DEN: one event that needs
		// attention; the stock movements themselves do not count.
		twenty := int64(20)
		for _, sku := range []string{"MUG", "TENT"} {
			if _, err := f.inv.SetReorderSettings(ctx, f.alpha.ID, sku, inventory.ReorderSettings{ReorderPoint: &twenty}); err != nil {
				t.Fatal(err)
			}
		}
		f.receive(f.alpha, "MUG", "DEN", "A-01", 5)
		f.receive(f.alpha, "TENT", "DEN", "A-01", 50)
		_, body = c.get("/notifications/bell", "HX-Request", "true")
		wantContains(t, body, `<span class="bell-count" aria-hidden="true">1</span>`, "1 new notifications")

		// Tenant B's bell stays quiet.
		b := f.signIn("owner@beta.example")
		_, body = b.get("/notifications/bell", "HX-Request", "true")
		wantContains(t, body, "No new notifications")

		// An endpoint disabled for failing is the second.
		ep, err := f.ns.CreateEndpoint(ctx, f.alpha.ID, notify.EndpointInput{URL: "https://hooks.example.com/a", Events: []string{"reservation.*"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.W.Exec(`INSERT INTO events (id, tenant_id, type, object_type, object_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id.New("evt"), f.alpha.ID, "webhook_endpoint.disabled", "webhook_endpoint", ep.ID, `{"id":"`+ep.ID+`","reason":"every delivery failed for 120h0m0s (last: status 500)"}`, store.Now()); err != nil {
			t.Fatal(err)
		}
		_, body = c.get("/notifications/bell", "HX-Request", "true")
		wantContains(t, body, `aria-hidden="true">2</span>`)

		// Opening the list shows both, newest first, and empties the bell.
		res, body = c.get("/notifications")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Webhook endpoint disabled: https://hooks.example.com/a", `href="/settings/webhooks/`+ep.ID+`"`,
			"Every delivery failed for 120h0m0s", "Low stock: MUG at DEN", "5 available; reorder point 20.", `href="/inventory/sku/`+st.mug.ID+`"`)
		if strings.Count(body, "is-new") != 2 || strings.Index(body, "Webhook endpoint disabled") > strings.Index(body, "Low stock: MUG") {
			t.Error("want two new notices, newest first")
		}
		wantNotContains(t, body, "TENT at")
		_, body = c.get("/notifications/bell", "HX-Request", "true")
		wantContains(t, body, "No new notifications")
		_, body = c.get("/notifications")
		if strings.Contains(body, "is-new") {
			t.Error("notices seen before are still new")
		}

		// A new low stock after that counts again.
		if _, _, err := f.inv.Adjust(ctx, f.alpha.ID, inventory.Adjustment{SKU: "TENT", Facility: "DEN", Bin: "A-01", Quantity: -45, Kind: inventory.WriteOff, Reason: "rain", Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		_, body = c.get("/notifications/bell", "HX-Request", "true")
		wantContains(t, body, `aria-hidden="true">1</span>`)

		// Another session of the same person starts from the last week.
		_, body = f.signIn("owner@alpha.example").get("/notifications/bell", "HX-Request", "true")
		wantContains(t, body, `aria-hidden="true">3</span>`)
	})
}
