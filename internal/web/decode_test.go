package web_test

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/web"
)

type decodeTarget struct {
	Service string    `json:"service"`
	Count   int       `json:"count"`
	Print   bool      `json:"print"`
	Slot    time.Time `json:"slot"`
	Key     []byte    `json:"key"`
	Inner   struct {
		Name string `json:"name"`
	} `json:"inner"`
	List []string `json:"list"`
}

func TestDecodeJSONRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string // in the message
	}{
		{"Empty", ``, "empty"},
		{"Blank", "  \n", "empty"},
		{"Malformed", `{"service":`, "malformed JSON"},
		{"NotObject", `["ausweis"]`, "JSON object"},
		{"String", `"ausweis"`, "JSON object"},
		{"Trailing", `{"service":"a"} {"service":"b"}`, "extra data"},
		{"TrailingGarbage", `{"service":"a"}x`, "malformed JSON"},
		{"DuplicateKey", `{"service":"a","service":"b"}`, `field "service" is given twice`},
		{"DuplicateKeyOtherCase", `{"service":"a","SERVICE":"b"}`, `field "SERVICE" is given twice`},
		{"DuplicateNested", `{"inner":{"name":"a","name":"b"}}`, `field "inner.name" is given twice`},
		{"Unknown", `{"service":"a","extra":1}`, `unknown field "extra"`},
		{"WrongTypeString", `{"service":1}`, `field "service" must be a string`},
		{"WrongTypeInt", `{"count":"3"}`, `field "count" must be a whole number`},
		{"Overflow", `{"count":1e400}`, `field "count"`},
		{"WrongTypeBool", `{"print":"yes"}`, `field "print" must be true or false`},
		{"WrongTime", `{"slot":"tomorrow"}`, "RFC 3339"},
		{"WrongBytes", `{"key":"!!"}`, `field "key" must be a base64 string`},
		{"Bidi", `{"service":"a\u202eb"}`, `field "service" contains U+202E (a bidirectional formatting character)`},
		{"NUL", `{"service":"a\u0000"}`, `field "service" contains U+0000 (a control character)`},
		{"Newline", `{"list":["ok","a\nb"]}`, `field "list[1]" contains U+000A`},
		{"BidiKey", `{"serv\u202eice":"a"}`, "a key in the body contains U+202E"},
		{"BadUTF8", "{\"service\":\"a\xffb\"}", "not UTF-8"},
		{"Oversized", `{"service":"` + strings.Repeat("a", web.MaxJSONBody) + `"}`, "larger than 64 KiB"},
		{"DeepNesting", strings.Repeat("[", 20000), "JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var v decodeTarget
			err := web.DecodeJSON(r, &v)
			if veedel.ErrorCode(err) != veedel.EINVALID {
				t.Fatalf("DecodeJSON(%.60q) = %v, want EINVALID", tc.body, err)
			}
			if msg := veedel.ErrorMessage(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want it to contain %q", msg, tc.want)
			}
			if v.Service != "" || v.Count != 0 || v.Inner.Name != "" {
				t.Errorf("refused body decoded into the target: %+v", v)
			}
		})
	}
}

func TestDecodeJSONAccepts(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"service":"Ausweis – Ümlaut 🇩🇪","count":3,"inner":{"name":"x"},"list":["a","b"],"print":true}`+"\n"))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	var v decodeTarget
	if err := web.DecodeJSON(r, &v); err != nil {
		t.Fatal(err)
	}
	if v.Service != "Ausweis – Ümlaut 🇩🇪" || v.Count != 3 || v.Inner.Name != "x" || len(v.List) != 2 || !v.Print {
		t.Errorf("decoded %+v", v)
	}
}

func TestDecodeJSONContentType(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"service":"a"}`))
	r.Header.Set("Content-Type", "text/plain")
	var v decodeTarget
	if err := web.DecodeJSON(r, &v); veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(err.Error(), "application/json") {
		t.Errorf("text/plain body: %v", err)
	}
}

// FuzzDecodeJSON: whatever the body, DecodeJSON answers EINVALID or
// decodes exactly what encoding/json decodes, and what it accepts has no
// key twice and no unsafe character in any string.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"service":"ausweis"}`, `{"service":"a","service":"b"}`, `{"inner":{"name":"x"},"list":["a"]}`,
		`{"count":1e400}`, `{"service":"a\u202eb"}`, `{"slot":"2026-05-04T09:30:00+02:00"}`, `{} {}`, `[]`, `{"key":"AAAA"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		var got decodeTarget
		err := web.DecodeJSON(r, &got)
		if err != nil {
			if veedel.ErrorCode(err) != veedel.EINVALID || veedel.ErrorMessage(err) == "" {
				t.Fatalf("DecodeJSON(%q) = %v, want EINVALID with a message", body, err)
			}
			return
		}
		var want decodeTarget
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("DecodeJSON accepted %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeJSON(%q) = %+v, encoding/json %+v", body, got, want)
		}
		for _, s := range append([]string{got.Service, got.Inner.Name}, got.List...) {
			if _, bad := veedel.UnsafeRune(s); bad {
				t.Fatalf("DecodeJSON accepted the unsafe string %q", s)
			}
		}
	})
}
