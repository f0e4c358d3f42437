package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/store"
)

// idempotency implements Stripe's Idempotency-Key semantics for POSTs: the
// same key and body replays the stored response; the same key with another
// body is 422; a key whose first request is still running is 409.
func (a *API) idempotency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 {
			writeProblem(w, r, &Problem{Status: 400, Code: "invalid_idempotency_key", Detail: "Idempotency-Key must be at most 255 characters"})
			return
		}
		p := principal(r.Context())
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody(r)))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeProblem(w, r, &Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Detail: "request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"})
				return
			}
			writeProblem(w, r, &Problem{Status: 400, Code: "bad_body", Detail: "could not read the request body"})
			return
		}
		sum := sha256.New()
		io.WriteString(sum, r.Method+" "+r.URL.RequestURI()+"\n")
		sum.Write(body)
		hash := hex.EncodeToString(sum.Sum(nil))
		claimed, rec, err := a.d.Idempotency.Begin(r.Context(), p.TenantID, key, hash, a.idemTimeout())
		if err != nil {
			writeProblem(w, r, problemFrom(r.Context(), a.d.Log, err))
			return
		}
		if !claimed {
			switch {
			case rec.RequestHash != hash:
				writeProblem(w, r, &Problem{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
					Detail: "this Idempotency-Key was used with a different request; use a new key for a new request"})
			case !rec.Done && rec.Committed:
				writeProblem(w, r, &Problem{Status: http.StatusConflict, Code: "idempotency_key_response_lost",
					Detail: "the first request with this Idempotency-Key was carried out, but its response was lost when the server stopped; look the result up instead of retrying"})
			case !rec.Done:
				w.Header().Set("Retry-After", "1")
				writeProblem(w, r, &Problem{Status: http.StatusConflict, Code: "idempotency_key_in_flight",
					Detail: "a request with this Idempotency-Key is still being processed; retry shortly"})
			default:
				if rec.ResponseType != "" {
					w.Header().Set("Content-Type", rec.ResponseType)
				}
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(rec.StatusCode)
				w.Write(rec.ResponseBody)
			}
			return
		}
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r = r.WithContext(store.WithIdempotencyKey(r.Context(), p.TenantID, key))
		finished := false
		defer func() {
			// Not finished means a panic is on its way up: forget the claim so
			// a retry can run. Use a fresh context: the request's may be done.
			if !finished {
				_ = a.d.Idempotency.Abandon(detach(r), p.TenantID, key)
			}
		}()
		next.ServeHTTP(rw, r)
		finished = true
		if rw.status >= 500 {
			_ = a.d.Idempotency.Abandon(detach(r), p.TenantID, key)
			return
		}
		if err := a.d.Idempotency.Finish(detach(r), p.TenantID, key, rw.status, rw.Header().Get("Content-Type"), rw.buf.Bytes()); err != nil {
			a.d.Log.Error("idempotency: could not store response", "request_id", requestID(r.Context()), "err", err)
		}
	})
}

func (a *API) maxBody(r *http.Request) int64 {
	if isImport(r) {
		return maxImportBytes
	}
	if a.d.Config.MaxBodyBytes > 0 {
		return a.d.Config.MaxBodyBytes
	}
	return 1 << 20
}

// recorder passes a response through while keeping a copy.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// keyLimiter is a token bucket per API key: RateLimit per second sustained,
// RateBurst at once. A token bucket (not a sliding window) because bulk
// integrations send bursts.
type keyLimiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newKeyLimiter(perSec float64, burst int) *keyLimiter {
	if perSec <= 0 {
		perSec = math.Inf(1)
	}
	if burst <= 0 {
		burst = int(math.Max(1, perSec*2))
	}
	return &keyLimiter{perSec: rate.Limit(perSec), burst: burst, buckets: map[string]*bucket{}}
}

// allow reports whether a request may proceed now, and if not, after how long.
func (l *keyLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if math.IsInf(float64(l.perSec), 1) {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.perSec, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (a *API) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principalOK(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if allowed, wait := a.limiter.allow(p.KeyID, time.Now()); !allowed {
			secs := int(math.Ceil(wait.Seconds()))
			if secs < 1 {
				secs = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeProblem(w, r, &Problem{Status: http.StatusTooManyRequests, Code: "rate_limited",
				Detail: "too many requests for this API key; retry after " + strconv.Itoa(secs) + " s"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// idemTimeout is how long an unfinished claim on a key blocks retries (409)
// before a retry may take it over (the first process died mid-request).
func (a *API) idemTimeout() time.Duration {
	if a.d.Config.IdempotencyTimeout > 0 {
		return a.d.Config.IdempotencyTimeout
	}
	return 30 * time.Second
}
