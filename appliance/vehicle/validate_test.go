package vehicle_test

import (
	"testing"

	"github.com/veedel/veedel/appliance/vehicle"
)

// Real-world shapes: the IBANs are the published examples of the banks'
// documentation (ISO 13616 and the Bundesbank's), the FINs real
// manufacturers' patterns (VW, Mercedes, a US Honda), each changed in one
// place for the invalid ones.

func TestCheckIBAN(t *testing.T) {
	for iban, ok := range map[string]bool{
		"DE89 3704 0044 0532 0130 00": true,
		"de89370400440532013000":      true,
		"GB82 WEST 1234 5698 7654 32": true,
		"NL91 ABNA 0417 1643 00":      true,
		"AT61 1904 3002 3457 3201":    true,
		"DE89 3704 0044 0532 0130 01": false, // one digit off: the check digits catch it
		"DE88 3704 0044 0532 0130 00": false, // wrong check digits
		"DE89 3704 0044 0532 0130 0":  false, // one short
		"US12 3456 7890 1234 5678 90": false, // not SEPA
		"DE89 3704 0044 0532 0130 0!": false,
		"":                            false,
	} {
		if got := vehicle.CheckIBAN(iban) == ""; got != ok {
			t.Errorf("CheckIBAN(%q) = %q, want valid %v", iban, vehicle.CheckIBAN(iban), ok)
		}
	}
}

func TestCheckFIN(t *testing.T) {
	for fin, ok := range map[string]bool{
		"WVWZZZ1JZXW000001": true,
		"WDB1240221A123456": true,
		"1HGCM82633A004352": true,
		"wvwzzz1jzxw000001": true,  // typed in lower case
		"WVWZZZ1JZXW00001":  false, // 16
		"WVWZZZ1JZXW0000O1": false, // O for 0
		"WVWZZZ1JZXWI00001": false, // I
		"WVWZZZ1JZXW00000Q": false, // Q
		"WVWZZZ1JZXW00000!": false,
	} {
		if got := vehicle.CheckFIN(fin) == ""; got != ok {
			t.Errorf("CheckFIN(%q) = %q, want valid %v", fin, vehicle.CheckFIN(fin), ok)
		}
	}
}

func TestCheckEVB(t *testing.T) {
	for evb, ok := range map[string]bool{"A1B2C3D": true, "7X9K2MZ": true, "A1B2C3": false, "A1B2C3D4": false, "A1B2C3!": false, "": false} {
		if got := vehicle.CheckEVB(evb) == ""; got != ok {
			t.Errorf("CheckEVB(%q) = %q, want valid %v", evb, vehicle.CheckEVB(evb), ok)
		}
	}
}

func TestCheckDocuments(t *testing.T) {
	if msg := vehicle.CheckZB(1, "AB1234567C"); msg != "" {
		t.Errorf("ZB I with checking letter: %s", msg)
	}
	if msg := vehicle.CheckZB(2, "ab 1234567"); msg != "" {
		t.Errorf("ZB II: %s", msg)
	}
	for _, bad := range []string{"A1234567", "AB123456", "AB12345678", "1234567AB"} {
		if vehicle.CheckZB(2, bad) == "" {
			t.Errorf("ZB II %q accepted", bad)
		}
	}
	if vehicle.CheckSecurityCode(1, "K7QM4XP") != "" || vehicle.CheckSecurityCode(2, "K7QM4XPA2B3C") != "" {
		t.Error("good security codes refused")
	}
	if vehicle.CheckSecurityCode(1, "K7QM4X") == "" || vehicle.CheckSecurityCode(2, "K7QM4XP") == "" {
		t.Error("short security codes accepted")
	}
}

func TestParsePlate(t *testing.T) {
	for in, want := range map[string]string{
		"K-AB 123":   "K-AB 123",
		"k ab 1234":  "K-AB 1234",
		"K-A 1":      "K-A 1",
		"K AB123":    "K-AB 123",
		"K-ABC 1":    "",
		"K-AB 12345": "",
		"K-AB 0123":  "",
		"BN-AB 123":  "",
		"K-SS 88":    "", // blocked
		"K-NS 1":     "", // blocked
		"":           "",
	} {
		p, msg := vehicle.ParsePlate(in, vehicle.DefaultBlocked)
		got := ""
		if msg == "" {
			got = p.String()
		}
		if got != want {
			t.Errorf("ParsePlate(%q) = %q (%s), want %q", in, got, msg, want)
		}
		if want == "" && msg == "" {
			t.Errorf("ParsePlate(%q) refused without a reason", in)
		}
	}
}
