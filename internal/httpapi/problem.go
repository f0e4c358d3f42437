package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// Problem is an RFC 9457 problem document: huma's fields plus a stable
// machine `code` and the request id.
type Problem struct {
	Type     string              `json:"type,omitempty"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Code     string              `json:"code,omitempty" doc:"A stable machine-readable code, e.g. sku_taken."`
	Errors   []*huma.ErrorDetail `json:"errors,omitempty"`
}

func (p *Problem) Error() string             { return p.Detail }
func (p *Problem) GetStatus() int            { return p.Status }
func (p *Problem) ContentType(string) string { return "application/problem+json" }
func (p *Problem) withInstance(reqID string) *Problem {
	p.Instance = "urn:waybill:request:" + reqID
	return p
}

var kindStatus = map[errs.Kind]int{
	errs.Invalid:         http.StatusUnprocessableEntity,
	errs.NotExist:        http.StatusNotFound,
	errs.Permission:      http.StatusForbidden,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.Conflict:        http.StatusConflict,
	errs.Transient:       http.StatusServiceUnavailable,
}

// problemFrom turns any error into the one response the client sees. It is
// the only place an error kind becomes a status. Internal errors are logged
// with the request id and shown without detail.
func problemFrom(ctx context.Context, log *slog.Logger, err error) *Problem {
	kind := errs.KindOf(err)
	status, ok := kindStatus[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := &Problem{Status: status, Title: http.StatusText(status), Code: errs.CodeOf(err)}
	reqID := requestID(ctx)
	if status >= 500 {
		log.ErrorContext(ctx, "request failed", "request_id", reqID, "err", err)
		p.Detail = "an internal error occurred; quote request " + reqID + " when asking for help"
		if status == http.StatusServiceUnavailable {
			p.Detail = "temporarily unavailable, try again"
		}
		return p.withInstance(reqID)
	}
	var e *errs.Error
	if ok := asErr(err, &e); ok {
		p.Detail = e.Msg
		for e.Msg == "" && e.Err != nil {
			if !asErr(e.Err, &e) {
				break
			}
			p.Detail = e.Msg
		}
	}
	if p.Detail == "" {
		p.Detail = err.Error()
	}
	for _, f := range errs.Fields(err) {
		loc := f.Field
		if !strings.HasPrefix(loc, "query.") && !strings.HasPrefix(loc, "path.") && !strings.HasPrefix(loc, "header.") {
			loc = "body." + loc
		}
		p.Errors = append(p.Errors, &huma.ErrorDetail{Message: f.Message, Location: loc, Value: f.Value})
	}
	if p.Code == "" {
		p.Code = kind.String()
	}
	return p.withInstance(reqID)
}

func asErr(err error, target **errs.Error) bool {
	for err != nil {
		if e, ok := err.(*errs.Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// writeProblem writes p outside huma (middleware answers).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.withInstance(requestID(r.Context()))
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

type requestIDKey struct{}

// WithRequestID gives every request an id (kept from X-Request-Id when the
// client or proxy sent a sane one), echoed in the response and in logs.
func WithRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := r.Header.Get("X-Request-Id")
		if rid == "" || len(rid) > 100 || strings.ContainsAny(rid, " \t\r\n\"") {
			rid = id.New("req")
		}
		w.Header().Set("X-Request-Id", rid)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid)))
	})
}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

// recoverer turns a panic into a logged 500 problem instead of a dropped
// connection.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic", "request_id", requestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				writeProblem(w, r, &Problem{Status: 500, Title: "Internal Server Error", Detail: "an internal error occurred; quote request " + requestID(r.Context())})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// codeForStatus names the problems huma itself raises (schema validation,
// malformed JSON, body limits), so every problem carries a code.
var codeForStatus = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthenticated",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "invalid",
	http.StatusTooManyRequests:       "rate_limited",
}

var useProblemsOnce sync.Once

// useProblems makes huma build its own errors as our Problem (with code and
// request id) instead of its plain error model. huma only offers this as a
// package variable, so it is set once, the same way, by every API.
func useProblems() {
	useProblemsOnce.Do(func() {
		huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errList ...error) huma.StatusError {
			p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg, Code: codeForStatus[status]}
			for _, e := range errList {
				if e == nil {
					continue
				}
				if d, ok := e.(huma.ErrorDetailer); ok {
					p.Errors = append(p.Errors, d.ErrorDetail())
				} else {
					p.Errors = append(p.Errors, &huma.ErrorDetail{Message: e.Error()})
				}
			}
			if hctx != nil {
				p.withInstance(requestID(hctx.Context()))
			}
			return p
		}
	})
}
