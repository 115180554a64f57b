package blob

import "reflect"

var refType = reflect.TypeFor[Ref]()

// Refs returns every Ref a decoded payload holds (in fields, slices,
// pointers and maps, however deep): the files an event references. Central
// takes a site's chunks only for files the site's log references, and
// sends a site only files its outbound log references.
func Refs(payload any) []Ref {
	var out []Ref
	walk(reflect.ValueOf(payload), &out, 0)
	return out
}

func walk(v reflect.Value, out *[]Ref, depth int) {
	if !v.IsValid() || depth > 16 {
		return
	}
	if v.Type() == refType {
		if r := v.Interface().(Ref); r.SHA256 != "" {
			*out = append(*out, r)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), out, depth+1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i), out, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes
		}
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), out, depth+1)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walk(it.Value(), out, depth+1)
		}
	}
}
