package business

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/veedel/veedel"
)

// unsafeField returns the JSON path of the first string in v holding a
// control or bidirectional formatting character (veedel.UnsafeRune), as
// web.DecodeJSON refuses them in single requests; "" when there is none.
func unsafeField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.String:
		if _, bad := veedel.UnsafeRune(v.String()); bad {
			return path
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return unsafeField(v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p := unsafeField(v.Index(i), join(path, strconv.Itoa(i))); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			p := path
			if !f.Anonymous {
				if name == "" {
					name = f.Name
				}
				p = join(path, name)
			}
			if got := unsafeField(v.Field(i), p); got != "" {
				return got
			}
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkRow refuses a row with a control or bidirectional formatting
// character, naming its field.
func checkRow(r Row) error {
	if p := unsafeField(reflect.ValueOf(r), ""); p != "" {
		return veedel.FieldErrors{p: "Steuer- oder Richtungszeichen sind nicht erlaubt / control or direction characters are not allowed"}.
			Err("Unerlaubtes Zeichen / character not allowed")
	}
	return nil
}
