package ui

import "testing"

func TestGroups(t *testing.T) {
	groups := funcs["groups"].(func(string) string)
	for in, want := range map[string]string{
		"DE89370400440532013000": "DE89 3704 0044 0532 0130 00",
		"NL91ABNA0417164300":     "NL91 ABNA 0417 1643 00",
		"DE89":                   "DE89",
		"":                       "",
	} {
		if got := groups(in); got != want {
			t.Errorf("groups(%q) = %q, want %q", in, got, want)
		}
	}
}
