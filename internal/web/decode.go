package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// DecodeJSON reads a bounded JSON object from the request body into v. It
// refuses, with an EINVALID message a client can act on: another
// Content-Type, an empty, oversized or malformed body, anything but one
// object, data after it, a key given twice in one object (also in another
// letter case: encoding/json would take the last silently), unknown fields,
// values of the wrong type, and strings holding control or bidirectional
// formatting characters (veedel.UnsafeRune). Nothing is decoded into v
// unless the whole body passes.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return veedel.Errorf(veedel.EINVALID, "Content-Type must be application/json, not %q", mt)
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return veedel.Errorf(veedel.EINVALID, "the request body did not arrive in time: send it at once")
	case errors.As(err, &tooBig):
		return veedel.Errorf(veedel.EINVALID, "request body is larger than %d KiB", tooBig.Limit>>10)
	case err != nil:
		return veedel.Errorf(veedel.EINVALID, "request body could not be read")
	case len(data) > MaxJSONBody:
		return veedel.Errorf(veedel.EINVALID, "request body is larger than %d KiB", MaxJSONBody>>10)
	case len(bytes.TrimSpace(data)) == 0:
		return veedel.Errorf(veedel.EINVALID, "request body is empty: send a JSON object")
	}
	if !utf8.Valid(data) {
		return veedel.Errorf(veedel.EINVALID, "request body holds a byte that is not UTF-8")
	}
	if err := checkJSON(data); err != nil {
		return err
	}
	// Decode into a copy, so that v stays as it was when a field fails.
	target := reflect.ValueOf(v)
	if target.Kind() != reflect.Pointer || target.IsNil() {
		return fmt.Errorf("web: DecodeJSON needs a non-nil pointer, not %T", v)
	}
	tmp := reflect.New(target.Elem().Type())
	tmp.Elem().Set(target.Elem())
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(tmp.Interface()); err != nil {
		var typ *json.UnmarshalTypeError
		var tim *time.ParseError
		switch {
		case errors.As(err, &typ):
			return veedel.Errorf(veedel.EINVALID, "field %q must be %s, not %s", typ.Field, kindName(typ.Type), typ.Value)
		case errors.As(err, &tim):
			return veedel.Errorf(veedel.EINVALID, "a time must be written as in RFC 3339, e.g. \"2026-05-04T09:30:00+02:00\", not %s", tim.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return veedel.Errorf(veedel.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return veedel.Errorf(veedel.EINVALID, "malformed JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	target.Elem().Set(tmp.Elem())
	return nil
}

// kindName says in words what JSON a Go type takes.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == reflect.TypeFor[time.Time]() {
		return "a time string like \"2026-05-04T09:30:00+02:00\""
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "a " + t.String()
}

// jsonFrame is one open object or array while checkJSON walks a body.
type jsonFrame struct {
	object bool
	keys   map[string]bool // lower-cased: encoding/json matches fields case-insensitively
	key    string          // the key whose value comes next (objects)
	index  int             // the next element's index (arrays)
	path   string
}

// checkJSON walks data token by token: one object, nothing after it, no
// key twice in an object, no unsafe characters in keys or strings.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*jsonFrame
	// field is the path of the value the next token is, for messages.
	field := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return join(f.path, f.key)
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// valueDone moves the innermost frame past the value just read.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.object {
			f.key = ""
		} else {
			f.index++
		}
	}
	first := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return veedel.Errorf(veedel.EINVALID, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return veedel.Errorf(veedel.EINVALID, "malformed JSON: the body ends before the object does")
			}
			return veedel.Errorf(veedel.EINVALID, "malformed JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
		}
		if len(stack) == 0 && !first {
			return veedel.Errorf(veedel.EINVALID, "malformed JSON: extra data after the object")
		}
		if first {
			first = false
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return veedel.Errorf(veedel.EINVALID, "request body must be a JSON object {…}")
			}
		}
		top := (*jsonFrame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.key == "" {
			// A key.
			if r, bad := veedel.UnsafeRune(s); bad {
				_, en := veedel.DescribeRune(r)
				return veedel.Errorf(veedel.EINVALID, "a key in %s contains %s", orBody(top.path), en)
			}
			lower := strings.ToLower(s)
			if top.keys[lower] {
				return veedel.Errorf(veedel.EINVALID, "field %q is given twice", join(top.path, s))
			}
			top.keys[lower] = true
			top.key = s
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &jsonFrame{object: t == '{', keys: map[string]bool{}, path: field()})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if r, bad := veedel.UnsafeRune(t); bad {
				_, en := veedel.DescribeRune(r)
				return veedel.Errorf(veedel.EINVALID, "field %q contains %s", field(), en)
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "the body"
	}
	return fmt.Sprintf("field %q", path)
}
