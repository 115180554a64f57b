package modemsim

import (
	"encoding/hex"
	"testing"

	"github.com/veedel/veedel/appliance/notify"
)

func TestDecodeSubmit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		pdu  string
		want submit
	}{
		{"GSM7", "00" + "1100" + "0D91945121436587F9" + "0000AA" + "0A" + "E8329BFD4697D9EC37",
			submit{to: "+4915123456789", enc: notify.GSM7, text: "hellohello"}},
		{"Euro", "00" + "1100" + "0D91945121436587F9" + "0000AA" + "04" + "35D0A60C",
			submit{to: "+4915123456789", enc: notify.GSM7, text: "5 €"}},
		{"UCS2", "00" + "1100" + "0B811015214365F7" + "0008AA" + "04" + "2013015F",
			submit{to: "01511234567", enc: notify.UCS2, text: "–ş"}},
		// UDH 05 00 03 2A 02 01, one fill bit, then "hi" from bit 49.
		{"Concatenated", "00" + "5100" + "0D91945121436587F9" + "0000AA" + "09" + "0500032A0201" + "D069",
			submit{to: "+4915123456789", enc: notify.GSM7, text: "hi", ref: 0x2A, total: 2, seq: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.pdu)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeSubmit(b, len(b)-1)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	b, _ := hex.DecodeString("00" + "1100" + "0D91945121436587F9" + "0000AA" + "0A" + "E8329BFD4697D9EC37")
	if _, err := decodeSubmit(b, len(b)); err == nil {
		t.Error("wrong AT+CMGS length accepted")
	}
}
