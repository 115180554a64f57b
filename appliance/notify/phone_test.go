package notify_test

import (
	"errors"
	"testing"

	"github.com/veedel/veedel/appliance/notify"
)

func TestNormalizeMobile(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		typed string
		want  string
		err   error
	}{
		{"0151 23456789", "+4915123456789", nil},
		{"0151/234 567 89", "+4915123456789", nil},
		{"+49 (0)151 23456789", "+4915123456789", nil},
		{"+49 151 23456789", "+4915123456789", nil},
		{"0049 1512 3456789", "+4915123456789", nil},
		{"0160 1234567", "+491601234567", nil},
		{"0176-12345678", "+4917612345678", nil},
		{"+90 532 123 45 67", "+905321234567", nil},
		{"0221 221-0", "", notify.ErrLandline},   // Cologne city hall
		{"+49 221 2210", "", notify.ErrLandline}, // same, international
		{"0800 1234567", "", notify.ErrLandline},
		{"0151 234", "", notify.ErrMalformed},
		{"0151 234567890123", "", notify.ErrMalformed},
		{"151 23456789", "", notify.ErrMalformed},
		{"0151 2345678a", "", notify.ErrMalformed},
		{"+49+15123456789", "", notify.ErrMalformed},
		{"", "", notify.ErrMalformed},
		{"+1234", "", notify.ErrMalformed},
	} {
		got, err := notify.NormalizeMobile(tt.typed)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q, %v", tt.typed, got, err, tt.want, tt.err)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ number, want string }{
		{"+4915123454567", "+49 151 ****4567"},
		{"+491601234567", "+49 160 ****4567"},
		{"+905321234567", "+90 ****4567"},
		{"+1234", "****"},
		{"0151234567", "****"},
	} {
		if got := notify.Mask(tt.number); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.number, got, tt.want)
		}
	}
}
