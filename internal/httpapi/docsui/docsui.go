// Package docsui serves a self-contained Swagger UI page for the v1 API
// documentation. All assets are embedded; nothing is loaded from a CDN.
//
// Mount it under the docs prefix:
//
//	mux.Handle("/api/v1/docs/", http.StripPrefix("/api/v1/docs", docsui.Handler()))
//	mux.Handle("/api/v1/docs", http.StripPrefix("/api/v1/docs", docsui.Handler()))
//
// The page loads the OpenAPI document from /api/v1/openapi.json.
package docsui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
	"time"
)

// FS holds the page and the vendored swagger-ui-dist assets.
//
//go:embed index.html swagger-ui-bundle.js swagger-ui.css
var FS embed.FS

type asset struct {
	name         string // file name in FS, also used for the Content-Type
	data         []byte
	etag         string
	cacheControl string
}

// Handler serves index.html at "/" (and "/index.html") and the Swagger UI
// JavaScript and CSS next to it. Requests for "" (the mount prefix without a
// trailing slash, after http.StripPrefix) are redirected to the prefix with a
// slash so that the page's relative asset URLs resolve. Only GET and HEAD are
// allowed. The JavaScript and CSS are cacheable for a day and carry a
// content-hash ETag; the page itself is revalidated on every load.
func Handler() http.Handler {
	assets := map[string]*asset{
		"/":                     load("index.html", "no-cache"),
		"/swagger-ui-bundle.js": load("swagger-ui-bundle.js", "public, max-age=86400"),
		"/swagger-ui.css":       load("swagger-ui.css", "public, max-age=86400"),
	}
	assets["/index.html"] = assets["/"]

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "" {
			if loc, ok := slashRedirect(r); ok {
				// Set Location directly: http.Redirect would resolve the
				// relative reference against the stripped path.
				w.Header().Set("Location", loc)
				w.WriteHeader(http.StatusMovedPermanently)
				return
			}
		}
		a, ok := assets[r.URL.Path]
		if !ok && r.URL.Path == "" {
			a, ok = assets["/"]
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", a.cacheControl)
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		// ServeContent sets Content-Type from the file extension and answers
		// If-None-Match / Range requests.
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
	})
}

// slashRedirect returns a relative Location that adds a trailing slash to the
// original request path (e.g. "./docs/" for "/api/v1/docs"). After
// http.StripPrefix the prefix is gone from r.URL, but r.RequestURI still holds
// the path as the client sent it.
func slashRedirect(r *http.Request) (string, bool) {
	p, query, _ := strings.Cut(r.RequestURI, "?")
	if p == "" || p[0] != '/' || strings.HasSuffix(p, "/") {
		return "", false
	}
	last := path.Base(p)
	if last == "" || last == "/" || last == "." || last == ".." {
		return "", false
	}
	loc := "./" + last + "/"
	if query != "" {
		loc += "?" + query
	}
	return loc, true
}

func load(name, cacheControl string) *asset {
	data, err := FS.ReadFile(name)
	if err != nil {
		panic("docsui: missing embedded file " + name) // impossible: checked by go:embed
	}
	sum := sha256.Sum256(data)
	return &asset{
		name:         name,
		data:         data,
		etag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
		cacheControl: cacheControl,
	}
}
