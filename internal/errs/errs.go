// Package errs defines the few kinds of error Waybill distinguishes and the
// error value that carries them from the domain to the edge, where each kind
// becomes an HTTP status (or a CLI exit message) exactly once.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind says what sort of failure an error is, independent of where it happened.
type Kind int

const (
	Other           Kind = iota // not classified: treated as Internal at the edge
	Invalid                     // the caller sent something wrong; nothing changed
	NotExist                    // no such object (or not visible to this tenant)
	Permission                  // authenticated, but not allowed
	Unauthenticated             // no or bad credentials
	Conflict                    // the request clashes with current state (duplicate, stale, in flight)
	Transient                   // try again later (locks, time-outs, rate limits)
	Internal                    // a bug or an unexpected failure
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotExist:
		return "not_found"
	case Permission:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case Conflict:
		return "conflict"
	case Transient:
		return "transient"
	case Internal:
		return "internal"
	}
	return "other"
}

// FieldError names one input field that is wrong, in the API's spelling
// (e.g. "sku", "barcodes[1]", "kit_components[0].quantity").
type FieldError struct {
	Field   string
	Message string
	Value   any
}

// Error is Waybill's error value.
type Error struct {
	Op     string       // the operation that failed, e.g. "catalog.Create"
	Kind   Kind         // what sort of failure
	Code   string       // optional stable machine code, e.g. "sku_taken", "insufficient_stock"
	Msg    string       // human explanation
	Fields []FieldError // per-field problems, for Invalid
	Err    error        // the cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Msg != "" {
		b.WriteString(e.Msg)
	} else {
		b.WriteString(e.Kind.String())
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error. Arguments may be a Kind, a string (the message), an error
// (the cause), a FieldError or []FieldError, in any order.
func E(op string, args ...any) error {
	e := &Error{Op: op}
	for _, a := range args {
		switch a := a.(type) {
		case Kind:
			e.Kind = a
		case string:
			e.Msg = a
		case error:
			e.Err = a
		case FieldError:
			e.Fields = append(e.Fields, a)
		case []FieldError:
			e.Fields = append(e.Fields, a...)
		default:
			panic(fmt.Sprintf("errs.E: unexpected argument %T", a))
		}
	}
	if e.Kind == Other {
		e.Kind = KindOf(e.Err)
	}
	return e
}

// InvalidFields is the common case of a request with field problems.
func InvalidFields(op string, fields ...FieldError) error {
	msg := "the request has invalid fields"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Op: op, Kind: Invalid, Msg: msg, Fields: fields}
}

// WithCode sets a stable machine-readable code on an *Error and returns it.
func WithCode(err error, code string) error {
	var e *Error
	if errors.As(err, &e) {
		e.Code = code
	}
	return err
}

// KindOf returns the kind of the outermost classified error in err's chain.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Other
		}
		if e.Kind != Other {
			return e.Kind
		}
		err = e.Err
	}
	return Other
}

// Is reports whether err is of kind k.
func Is(k Kind, err error) bool { return KindOf(err) == k }

// Fields collects the field errors of the first classified error in the chain.
func Fields(err error) []FieldError {
	var e *Error
	for errors.As(err, &e) {
		if len(e.Fields) > 0 {
			return e.Fields
		}
		err = e.Err
	}
	return nil
}

// CodeOf returns the first machine code found in the chain, or "".
func CodeOf(err error) string {
	var e *Error
	for errors.As(err, &e) {
		if e.Code != "" {
			return e.Code
		}
		err = e.Err
	}
	return ""
}

// Fields builder helpers keep call sites short.
type FieldList []FieldError

func (l *FieldList) Add(field, msg string, value any) {
	*l = append(*l, FieldError{Field: field, Message: msg, Value: value})
}

// Err returns an Invalid error for op when the list is not empty.
func (l FieldList) Err(op string) error {
	if len(l) == 0 {
		return nil
	}
	return InvalidFields(op, l...)
}

// Message is err's message for people: the innermost Error's Msg when it
// has one, else err's text.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}
