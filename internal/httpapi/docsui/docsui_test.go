package docsui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newServer() *httptest.Server {
	mux := http.NewServeMux()
	h := http.StripPrefix("/api/v1/docs", Handler())
	mux.Handle("/api/v1/docs/", h)
	mux.Handle("/api/v1/docs", h)
	return httptest.NewServer(mux)
}

func get(t *testing.T, c *http.Client, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHandler(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	c := srv.Client()

	resp, body := get(t, c, srv.URL+"/api/v1/docs/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/docs/: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("index Content-Type = %q", ct)
	}
	for _, want := range []string{`src="./swagger-ui-bundle.js"`, `href="./swagger-ui.css"`, `"/api/v1/openapi.json"`, `"#ui"`} {
		if !strings.Contains(body, want) {
			t.Errorf("index.html does not contain %s", want)
		}
	}
	for _, bad := range []string{"unpkg", "jsdelivr", "cdnjs", "//cdn"} {
		if strings.Contains(body, bad) {
			t.Errorf("index.html references a CDN (%s)", bad)
		}
	}

	for path, ctype := range map[string]string{
		"/api/v1/docs/swagger-ui-bundle.js": "text/javascript",
		"/api/v1/docs/swagger-ui.css":       "text/css",
	} {
		resp, body := get(t, c, srv.URL+path, nil)
		if resp.StatusCode != http.StatusOK || len(body) < 1000 {
			t.Fatalf("GET %s: status %d, %d bytes", path, resp.StatusCode, len(body))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, ctype) {
			t.Errorf("GET %s: Content-Type = %q; want %s", path, ct, ctype)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("GET %s: Cache-Control = %q", path, cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag", path)
		}
		resp, _ = get(t, c, srv.URL+path, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: status %d; want 304", path, resp.StatusCode)
		}
	}

	resp, _ = get(t, c, srv.URL+"/api/v1/docs/nope.js", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET unknown file: status %d; want 404", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/docs/", nil)
	pr, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if pr.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d; want 405", pr.StatusCode)
	}
}

func TestHandlerRedirectsToSlash(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, _ := get(t, c, srv.URL+"/api/v1/docs", nil)
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("GET /api/v1/docs: status %d; want 301", resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if loc.Path != "/api/v1/docs/" {
		t.Errorf("redirect to %s; want /api/v1/docs/", loc.Path)
	}
}
