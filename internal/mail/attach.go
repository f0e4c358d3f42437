package mail

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/textproto"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
)

// maxFilenameRunes is the longest attachment name sent, in characters.
const maxFilenameRunes = 100

// attachmentPart is a checked Attachment: its cleaned name and the headers
// of its MIME part (the transfer encoding, base64, is go-mail's).
type attachmentPart struct {
	name   string
	header textproto.MIMEHeader
	data   []byte
}

// checkAttachments cleans and checks a message's attachments, adding what
// is wrong to fe.
func checkAttachments(as []Attachment, fe *errs.FieldList) []attachmentPart {
	var out []attachmentPart
	for i, a := range as {
		name := cleanFilename(a.Name)
		if name == "" {
			fe.Add(fmt.Sprintf("attachments[%d].name", i), "must have at least one letter or digit", a.Name)
			continue
		}
		ct, ok := contentType(a.ContentType, name)
		if !ok {
			fe.Add(fmt.Sprintf("attachments[%d].content_type", i), "must be a media type such as application/pdf (not multipart/ or message/)", a.ContentType)
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", "attachment;"+filenameParams("filename", name))
		out = append(out, attachmentPart{name: name, header: h, data: a.Data})
	}
	return out
}

// cleanFilename makes an attachment name safe to save: valid UTF-8 without
// control or invisible formatting characters (a right-to-left override can
// disguise "gpj.exe" as "exe.jpg"), path separators and other characters
// file systems refuse turned into "_", spaces collapsed, no spaces or dots
// at either end, and at most maxFilenameRunes characters with the
// extension kept. It returns "" for a name with no letter or digit.
func cleanFilename(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) && r != ' ':
			return -1
		case strings.ContainsRune(`/\:*?"<>|`, r):
			return '_'
		}
		return r
	}, s)
	s = strings.Trim(strings.Join(strings.Fields(s), " "), " .")
	if n := utf8.RuneCountInString(s); n > maxFilenameRunes {
		ext := path.Ext(s)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		base := []rune(strings.TrimSuffix(s, ext))
		s = strings.Trim(string(base[:maxFilenameRunes-utf8.RuneCountInString(ext)]), " .") + ext
	}
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return ""
	}
	return s
}

// contentType checks ct (or guesses it from name when empty) and returns
// the Content-Type header value with the file name added.
func contentType(ct, name string) (string, bool) {
	if strings.TrimSpace(ct) == "" {
		ct = mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/") {
		return "", false
	}
	delete(params, "name")
	v := mime.FormatMediaType(mt, params)
	if v == "" {
		return "", false
	}
	return v + ";" + filenameParams("name", name), true
}

// filenameParams returns a name parameter (param is "name" or "filename")
// as it goes after the ";" in a header, on folded lines.
//
// A plain ASCII name is sent as it is, quoted. Any other name goes two
// ways: param="..." holds it as RFC 2047 encoded-words, which older mail
// clients (and Outlook) read there although RFC 2047 does not allow it;
// and for filename, a filename* parameter holds it the RFC 2231 way (UTF-8,
// percent-encoded), which standard readers prefer, split into numbered
// pieces (RFC 2231 continuations) to keep lines short.
func filenameParams(param, name string) string {
	if plainName(name) {
		return "\r\n " + param + `="` + name + `"`
	}
	var b strings.Builder
	b.WriteString("\r\n " + param + `="`)
	for i, w := range encodedWords(name) {
		if i > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString(w)
	}
	b.WriteString(`"`)
	if param != "filename" {
		return b.String()
	}
	pieces := rfc2231Pieces(name)
	if len(pieces) == 1 {
		b.WriteString(";\r\n " + param + "*=UTF-8''" + pieces[0])
		return b.String()
	}
	for i, p := range pieces {
		b.WriteString(";\r\n " + fmt.Sprintf("%s*%d*=", param, i))
		if i == 0 {
			b.WriteString("UTF-8''")
		}
		b.WriteString(p)
	}
	return b.String()
}

// plainName reports whether name can go in a quoted parameter as it is:
// printable ASCII, and nothing a reader could take for an encoded-word.
// cleanFilename has already replaced quotes and backslashes.
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] < ' ' || name[i] > '~' {
			return false
		}
	}
	return !strings.Contains(name, "=?")
}

// encodedWords encodes s as RFC 2047 B encoded-words short enough that each
// parameter line stays within 78 characters, never splitting a character
// between words.
func encodedWords(s string) []string {
	const maxBytes = 39 // 52 base64 characters: 64 with "=?UTF-8?B?" and "?="
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxBytes {
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return words
}

// rfc2231Pieces percent-encodes s (RFC 2231 / RFC 5987 attr-chars stay as
// they are) in pieces of at most 54 characters, never splitting an escape,
// so that each parameter line stays within 78 characters.
func rfc2231Pieces(s string) []string {
	const maxPiece = 54
	var pieces []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		enc := string(c)
		if !attrChar(c) {
			enc = fmt.Sprintf("%%%02X", c)
		}
		if b.Len()+len(enc) > maxPiece {
			pieces = append(pieces, b.String())
			b.Reset()
		}
		b.WriteString(enc)
	}
	return append(pieces, b.String())
}

// attrChar reports whether c may appear unescaped in an RFC 2231 value.
func attrChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
