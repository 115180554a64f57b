package registration

import (
	"crypto/sha256"
	"slices"
	"strings"

	"github.com/veedel/veedel/workflow"
)

// centralSnapshotVersion changes whenever centralSnapshot's shape does.
const centralSnapshotVersion = 1

type centralSnapshot struct {
	Orders []snapshotOrder `json:"orders"`
}

// snapshotOrder is an order with what CentralOrder's JSON leaves out.
type snapshotOrder struct {
	CentralOrder
	Lang      string `json:"lang,omitempty"`
	TokenHash []byte `json:"token_hash,omitempty"`
}

var _ workflow.Snapshotter = (*Central)(nil)

// fromPayments reports whether an order's status is the payment store's
// (held for its payment, or not paid): central reloads those from its
// store at every start (Hold, PaymentFailed), not from the logs, so a
// snapshot leaves them out.
func fromPayments(status string) bool {
	return status == StatusAwaitingPayment || status == StatusPaymentFailed
}

// Snapshot freezes the orders the logs told of, in the order of their
// code.
func (c *Central) Snapshot() (int, any) {
	c.mu.RLock()
	snap := centralSnapshot{Orders: make([]snapshotOrder, 0, len(c.byCode))}
	for _, o := range c.byCode {
		if fromPayments(o.Status) {
			continue
		}
		s := snapshotOrder{CentralOrder: *o, Lang: o.Lang}
		if c.byToken[o.tokenHash] == o.Code {
			s.TokenHash = append([]byte(nil), o.tokenHash[:]...)
		}
		snap.Orders = append(snap.Orders, s)
	}
	c.mu.RUnlock()
	slices.SortFunc(snap.Orders, func(a, b snapshotOrder) int { return strings.Compare(a.CentralOrder.Code, b.CentralOrder.Code) })
	return centralSnapshotVersion, snap
}

// Restore thaws a Snapshot into the (empty) model.
func (c *Central) Restore(version int, data []byte) error {
	var snap centralSnapshot
	if err := workflow.DecodeSnapshot("registration", version, centralSnapshotVersion, data, &snap); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range snap.Orders {
		o := &s.CentralOrder
		o.Lang = s.Lang
		// In the form a fold gives times (time.UnixMilli).
		o.PlacedAt, o.UpdatedAt = workflow.AtMillis(workflow.Millis(o.PlacedAt)), workflow.AtMillis(workflow.Millis(o.UpdatedAt))
		if len(s.TokenHash) == sha256.Size {
			copy(o.tokenHash[:], s.TokenHash)
			c.byToken[o.tokenHash] = o.Code
		}
		c.byCode[o.Code] = o
	}
	return nil
}
