package registration_test

import (
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
)

func TestSettle(t *testing.T) {
	created := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	now := created.Add(5 * time.Minute)
	awaiting := registration.PaymentRecord{Reference: "UABC", AmountCents: 1000, Outcome: registration.PaymentAwaiting, Created: created}
	paid := awaiting
	paid.Outcome, paid.TxnID = registration.PaymentPaid, "T1"
	cancelled := awaiting
	cancelled.Outcome, cancelled.TxnID = registration.PaymentCancelled, "T0"
	expired := awaiting
	expired.Outcome = registration.PaymentExpired
	for _, c := range []struct {
		name    string
		rec     registration.PaymentRecord
		report  registration.PaymentReport
		at      time.Time
		want    string
		changed bool
		code    string
	}{
		{"Paid", awaiting, registration.PaymentReport{Status: "paid", TxnID: "T1"}, now, registration.PaymentPaid, true, ""},
		{"Cancelled", awaiting, registration.PaymentReport{Status: "cancelled", TxnID: "T0"}, now, registration.PaymentCancelled, true, ""},
		{"Failed", awaiting, registration.PaymentReport{Status: "failed", TxnID: "T0"}, now, registration.PaymentFailed, true, ""},
		{"PaidAfterWindow", awaiting, registration.PaymentReport{Status: "paid", TxnID: "T1"}, created.Add(registration.PaymentWindow + time.Second), "", false, veedel.ECONFLICT},
		{"RepeatOfPaid", paid, registration.PaymentReport{Status: "paid", TxnID: "T1"}, now, registration.PaymentPaid, false, ""},
		{"RepeatOfPaidAfterWindow", paid, registration.PaymentReport{Status: "paid", TxnID: "T1"}, created.Add(time.Hour), registration.PaymentPaid, false, ""},
		{"RepeatOfCancelled", cancelled, registration.PaymentReport{Status: "cancelled", TxnID: "T0"}, now, registration.PaymentCancelled, false, ""},
		{"SameTxnOtherOutcome", paid, registration.PaymentReport{Status: "cancelled", TxnID: "T1"}, now, "", false, veedel.ECONFLICT},
		{"SecondPayment", paid, registration.PaymentReport{Status: "paid", TxnID: "T2"}, now, "", false, veedel.ECONFLICT},
		{"PaidAfterCancel", cancelled, registration.PaymentReport{Status: "paid", TxnID: "T2"}, now, "", false, veedel.ECONFLICT},
		{"PaidAfterExpiry", expired, registration.PaymentReport{Status: "paid", TxnID: "T2"}, now, "", false, veedel.ECONFLICT},
		{"CancelledAfterExpiry", expired, registration.PaymentReport{Status: "cancelled", TxnID: "T2"}, now, registration.PaymentExpired, false, ""},
		{"CancelledAfterWindow", awaiting, registration.PaymentReport{Status: "cancelled", TxnID: "T2"}, created.Add(time.Hour), registration.PaymentExpired, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, changed, err := c.rec.Settle(c.report, c.at)
			if got != c.want || changed != c.changed || veedel.ErrorCode(err) != c.code && !(c.code == "" && err == nil) {
				t.Fatalf("got %q %v %v, want %q %v %s", got, changed, err, c.want, c.changed, c.code)
			}
			if err != nil && veedel.ErrorMessage(err) == "" {
				t.Fatal("an error without a message")
			}
		})
	}
}
