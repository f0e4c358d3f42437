package mail

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
)

// testPDF is binary data that looks like a PDF: every byte value, several
// base64 lines' worth.
func testPDF() []byte {
	b := []byte("%PDF-1.4\n%\xb5\xb6\n")
	for i := range 3000 {
		b = append(b, byte(i*7+i/256))
	}
	return append(b, "\n%%EOF\n"...)
}

// receivedPart is one leaf part of a received message.
type receivedPart struct {
	header    map[string][]string
	mediaType string
	params    map[string]string
	raw       []byte // the body as sent, before any transfer decoding
}

// leafParts walks a multipart body and returns its leaf parts in order,
// with the media types of the multiparts on the way.
func leafParts(t *testing.T, mediaType string, params map[string]string, body io.Reader) (leaves []receivedPart, multiparts []string) {
	t.Helper()
	multiparts = append(multiparts, mediaType)
	// RawPart, unlike NextPart, leaves quoted-printable bodies as sent.
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return leaves, multiparts
		}
		if err != nil {
			t.Fatal(err)
		}
		mt, ps, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type %q: %v", p.Header.Get("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			l, m := leafParts(t, mt, ps, p)
			leaves, multiparts = append(leaves, l...), append(multiparts, m...)
			continue
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, receivedPart{header: p.Header, mediaType: mt, params: ps, raw: raw})
	}
}

func TestSendAttachments(t *testing.T) {
	be := &backend{}
	addr := startServer(t, be, serverOpts{})
	s := newTestSender(t, "smtp://"+addr)

	pdf := testPDF()
	csvData := []byte("po_number,sku,name\nPO-1042,TENT-2P,Zoë Ångström in Łódź\n")
	longName := strings.Repeat("Zamówienie Łódź ", 10) + ".pdf"
	m := Message{
		ID:      "ntf_po_1042",
		To:      []Address{{Name: "Łódź Textiles", Email: "orders@supplier.example"}},
		Subject: "Purchase order PO-1042",
		Text:    "Please find purchase order PO-1042 attached.\n",
		HTML:    "<p>Please find purchase order <b>PO-1042</b> attached.</p>\n",
		Attachments: []Attachment{
			{Name: "PO-1042.pdf", ContentType: "application/pdf", Data: pdf},
			{Name: "Zamówienie PO-1042 (Łódź).csv", ContentType: "text/csv; charset=utf-8", Data: csvData},
			{Name: longName, Data: pdf}, // the type comes from the extension
			{Name: "../../etc/passwd\r\n", ContentType: "text/plain", Data: []byte("x")},
		},
	}
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	msgs := be.messages()
	if len(msgs) != 1 {
		t.Fatalf("server has %d messages, want 1", len(msgs))
	}
	data := msgs[0].Data
	for i, l := range strings.Split(string(data), "\r\n") {
		if len(l) > 78 {
			t.Errorf("line %d is %d characters long: %q", i+1, len(l), l)
		}
	}

	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %q (%v), want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	parts, multiparts := leafParts(t, mt, params, msg.Body)
	if got := strings.Join(multiparts, " "); got != "multipart/mixed multipart/alternative" {
		t.Errorf("multiparts = %s, want the alternative inside the mixed", got)
	}
	var types []string
	for _, p := range parts {
		types = append(types, p.mediaType)
	}
	if got := strings.Join(types, " "); got != "text/plain text/html application/pdf text/csv application/pdf text/plain" {
		t.Fatalf("parts = %s", got)
	}
	for i, want := range []string{m.Text, m.HTML} {
		got, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(parts[i].raw)))
		if err != nil || strings.ReplaceAll(string(got), "\r\n", "\n") != want {
			t.Errorf("%s part = %q (%v), want %q", parts[i].mediaType, got, err, want)
		}
	}

	for i, want := range []struct {
		name   string
		params map[string]string // of the Content-Type, besides the name
		data   []byte
	}{
		{"PO-1042.pdf", map[string]string{}, pdf},
		{"Zamówienie PO-1042 (Łódź).csv", map[string]string{"charset": "utf-8"}, csvData},
		{strings.TrimSpace(strings.Repeat("Zamówienie Łódź ", 6)) + ".pdf", map[string]string{}, pdf},
		{"_.._etc_passwd", map[string]string{}, []byte("x")},
	} {
		p := parts[2+i]
		h := func(k string) string { return strings.Join(p.header[k], " ") }
		if got := h("Content-Transfer-Encoding"); got != "base64" {
			t.Errorf("attachment %d: Content-Transfer-Encoding = %q", i, got)
		}
		disp, dparams, err := mime.ParseMediaType(h("Content-Disposition"))
		if err != nil || disp != "attachment" || dparams["filename"] != want.name {
			t.Errorf("attachment %d: Content-Disposition %q gives %q, %q (%v), want attachment, %q", i, h("Content-Disposition"), disp, dparams["filename"], err, want.name)
		}
		// Readers that ignore RFC 2231 find the name as encoded-words.
		if got, err := new(mime.WordDecoder).DecodeHeader(p.params["name"]); err != nil || got != want.name {
			t.Errorf("attachment %d: Content-Type name %q decodes to %q (%v), want %q", i, p.params["name"], got, err, want.name)
		}
		for k, v := range want.params {
			if p.params[k] != v {
				t.Errorf("attachment %d: Content-Type %s = %q, want %q", i, k, p.params[k], v)
			}
		}
		if len(p.params) != len(want.params)+1 {
			t.Errorf("attachment %d: Content-Type params %v", i, p.params)
		}
		lines := strings.Split(strings.TrimRight(string(p.raw), "\r\n"), "\r\n")
		for j, l := range lines {
			if len(l) > 76 || j < len(lines)-1 && len(l) != 76 {
				t.Errorf("attachment %d: base64 line %d is %d characters, want 76 (fewer on the last)", i, j+1, len(l))
				break
			}
		}
		got, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
		if err != nil || !bytes.Equal(got, want.data) {
			t.Errorf("attachment %d: %d bytes (%v), want the %d sent", i, len(got), err, len(want.data))
		}
	}
	// The same parts through multipart.Part.FileName, as a mail client in Go would read them.
	r := multipart.NewReader(bytes.NewReader(mustBody(t, data)), params["boundary"])
	var names []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := p.FileName(); n != "" {
			names = append(names, n)
		}
	}
	if len(names) != 4 || names[0] != "PO-1042.pdf" || names[1] != "Zamówienie PO-1042 (Łódź).csv" {
		t.Errorf("file names = %q", names)
	}
}

func mustBody(t *testing.T, data []byte) []byte {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAttachmentValidation(t *testing.T) {
	s := newTestSender(t, "smtp://127.0.0.1:1") // never dialled: every message here is invalid
	for _, tc := range []struct {
		field string
		a     Attachment
	}{
		{"attachments[0].name", Attachment{Name: "", ContentType: "application/pdf"}},
		{"attachments[0].name", Attachment{Name: " ../.. ", ContentType: "application/pdf"}},
		{"attachments[0].name", Attachment{Name: "\u202e\r\n", ContentType: "application/pdf"}},
		{"attachments[0].content_type", Attachment{Name: "a.pdf", ContentType: "pdf"}},
		{"attachments[0].content_type", Attachment{Name: "a.pdf", ContentType: "application/pdf; name"}},
		{"attachments[0].content_type", Attachment{Name: "a.eml", ContentType: "message/rfc822"}},
		{"attachments[0].content_type", Attachment{Name: "a", ContentType: "multipart/mixed; boundary=x"}},
	} {
		m := Message{ID: "ntf_1", To: []Address{{Email: "jane@shop.example"}}, Subject: "Hi", Text: "Hi", Attachments: []Attachment{tc.a}}
		err := s.Send(t.Context(), m)
		fields := errs.Fields(err)
		if !IsPermanent(err) || len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%+v: err = %v, want an error on %s", tc.a, err, tc.field)
		}
	}
}

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{
		"PO-1042.pdf":                     "PO-1042.pdf",
		"  Zoë  Ångström.csv ":            "Zoë Ångström.csv",
		"a/b\\c:d*e?f\"g<h>i|j.txt":       "a_b_c_d_e_f_g_h_i_j.txt",
		"line\r\nbreak\ttab.pdf":          "line break tab.pdf",
		"invoice\u202efdp.exe":            "invoicefdp.exe",
		"zero\u200bwidth.pdf":             "zerowidth.pdf",
		"bad \xff byte.pdf":               "bad byte.pdf",
		"...hidden.":                      "hidden",
		"__":                              "",
		"":                                "",
		strings.Repeat("é", 150) + ".pdf": strings.Repeat("é", 96) + ".pdf",
		strings.Repeat("x", 120) + ".averyveryverylongextension": strings.Repeat("x", 100),
	} {
		got := cleanFilename(in)
		if got != want {
			t.Errorf("cleanFilename(%q) = %q, want %q", in, got, want)
		}
		if utf8.RuneCountInString(got) > maxFilenameRunes {
			t.Errorf("cleanFilename(%q) has %d characters", in, utf8.RuneCountInString(got))
		}
	}
}

func TestFilenameParamsRoundTrip(t *testing.T) {
	for _, name := range []string{
		"PO-1042.pdf",
		"Zoë.pdf",
		"=?UTF-8?B?SGk=?=.pdf",
		"it's 100% (final) ; draft.csv",
		strings.Repeat("Łódź ", 19) + "x.csv",
		strings.Repeat("東京", 50),
	} {
		v := "attachment;" + filenameParams("filename", name)
		for _, l := range strings.Split("Content-Disposition: "+v, "\r\n") {
			if len(l) > 78 {
				t.Errorf("%q: line %q is too long", name, l)
			}
		}
		unfolded := strings.ReplaceAll(v, "\r\n ", " ")
		_, params, err := mime.ParseMediaType(unfolded)
		if err != nil || params["filename"] != name {
			t.Errorf("%q: Content-Disposition %q parses to %q (%v)", name, unfolded, params["filename"], err)
		}
		ct, ok := contentType("application/pdf", name)
		if !ok {
			t.Fatalf("contentType refused %q", name)
		}
		_, params, err = mime.ParseMediaType(strings.ReplaceAll(ct, "\r\n ", " "))
		if err != nil {
			t.Fatalf("%q: Content-Type %q: %v", name, ct, err)
		}
		if got, err := new(mime.WordDecoder).DecodeHeader(params["name"]); err != nil || got != name {
			t.Errorf("%q: Content-Type name decodes to %q (%v)", name, got, err)
		}
	}
}
