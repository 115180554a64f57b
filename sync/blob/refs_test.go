package blob_test

import (
	"slices"
	"testing"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
)

func TestRefs(t *testing.T) {
	a := blob.Ref{SHA256: "aa", Size: 1, Type: blob.TypePDF}
	b := blob.Ref{SHA256: "bb", Size: 2, Type: blob.TypeJPEG}
	c := blob.Ref{SHA256: "cc", Size: 3, Type: blob.TypePDF}
	for name, tc := range map[string]struct {
		payload any
		want    []blob.Ref
	}{
		"Approved":     {&vehicle.ApplicationApproved{ID: "x", Permit: a}, []blob.Ref{a}},
		"NoPermit":     {&vehicle.ApplicationApproved{ID: "x"}, nil},
		"Attachments":  {&vehicle.ApplicationSubmitted{Attachments: []vehicle.Attachment{{Kind: "vollmacht", File: a}, {File: b}}}, []blob.Ref{a, b}},
		"Embedded":     {&vehicle.ApplicationReceived{ApplicationSubmitted: vehicle.ApplicationSubmitted{Attachments: []vehicle.Attachment{{File: c}}}}, []blob.Ref{c}},
		"Map":          {map[string]*blob.Ref{"x": &b}, []blob.Ref{b}},
		"Nothing":      {&vehicle.ApplicationClaimed{ID: "x"}, nil},
		"Nil":          {nil, nil},
		"BytesSkipped": {struct{ Sealed []byte }{make([]byte, 1<<20)}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			if got := blob.Refs(tc.payload); !slices.Equal(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
