package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/store"
)

// JobBoard is what the jobs page reads: one tenant's share of the queue
// (store.Jobs).
type JobBoard interface {
	TenantJobStats(ctx context.Context, tenantID string) ([]store.JobCount, error)
	TenantJobFailures(ctx context.Context, tenantID string, limit int) ([]store.JobFailure, error)
}

// jobStates are the jobs page's columns, in the order a job moves through them.
var jobStates = []string{store.JobQueued, store.JobRunning, store.JobRetrying, store.JobCompleted, store.JobDiscarded}

// jobKindRow is one kind of job and how many are in each state.
type jobKindRow struct {
	Kind   string
	Counts []int64 // by jobStates
}

// jobFailure is a failed job with a link to what it was about.
type jobFailure struct {
	store.JobFailure
	Href string
}

// State names where the failed job stands.
func (j jobFailure) State() string {
	switch j.Status {
	case "available":
		return store.JobRetrying
	case "discarded":
		return "failed for good"
	}
	return j.Status
}

type jobsPage struct {
	States   []string
	Kinds    []jobKindRow
	Totals   []int64
	Failures []jobFailure
}

const jobFailuresShown = 50

func (s *server) jobList(w http.ResponseWriter, r *http.Request) error {
	// The queue's errors name endpoints and addresses: owners and admins only.
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	if s.d.Jobs == nil {
		return errs.E("web.jobList", errs.NotExist, "background jobs are not set up in this process")
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	counts, err := s.d.Jobs.TenantJobStats(ctx, tenant)
	if err != nil {
		return err
	}
	page := jobsPage{States: jobStates, Totals: make([]int64, len(jobStates))}
	for _, c := range counts {
		col := -1
		for i, st := range jobStates {
			if st == c.Status {
				col = i
			}
		}
		if col < 0 {
			continue
		}
		if n := len(page.Kinds); n == 0 || page.Kinds[n-1].Kind != c.Kind {
			page.Kinds = append(page.Kinds, jobKindRow{Kind: c.Kind, Counts: make([]int64, len(jobStates))})
		}
		page.Kinds[len(page.Kinds)-1].Counts[col] += c.Count
		page.Totals[col] += c.Count
	}
	fails, err := s.d.Jobs.TenantJobFailures(ctx, tenant, jobFailuresShown)
	if err != nil {
		return err
	}
	for _, f := range fails {
		jf := jobFailure{JobFailure: f}
		var p struct {
			DeliveryID string `json:"delivery_id"`
		}
		if f.Kind == store.JobDeliverWebhook && json.Unmarshal([]byte(f.Payload), &p) == nil && p.DeliveryID != "" {
			jf.Href = "/settings/webhooks/deliveries/" + p.DeliveryID
		}
		page.Failures = append(page.Failures, jf)
	}
	return s.render(w, r, http.StatusOK, "jobs", &view{Title: "Jobs", Area: "settings", Data: page})
}
