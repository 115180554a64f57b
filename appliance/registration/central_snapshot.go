package registration

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/veedel/veedel/workflow"
)

// centralSnapshotVersion changes whenever centralSnapshot's shape does.
const centralSnapshotVersion = 1

type centralSnapshot struct {
	Orders []snapshotOrder `json:"orders"`
}

type snapshotOrder struct {
	Code      string `json:"code"`
	Site      string `json:"site"`
	Kind      string `json:"kind"`
	Delivery  string `json:"delivery"`
	Copies    int    `json:"copies"`
	FeeCents  int    `json:"fee_cents"`
	Payment   string `json:"payment"`
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	PlacedAt  int64  `json:"placed_at"`
	UpdatedAt int64  `json:"updated_at"`
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
func (c *Central) Snapshot() (int, []byte, error) {
	c.mu.RLock()
	snap := centralSnapshot{Orders: make([]snapshotOrder, 0, len(c.byCode))}
	for _, o := range c.byCode {
		if fromPayments(o.Status) {
			continue
		}
		s := snapshotOrder{Code: o.Code, Site: o.Site, Kind: o.Kind, Delivery: o.Delivery, Copies: o.Copies, FeeCents: o.FeeCents,
			Payment: o.Payment, Status: o.Status, Reason: o.Reason, PlacedAt: workflow.Millis(o.PlacedAt), UpdatedAt: workflow.Millis(o.UpdatedAt), Lang: o.Lang}
		if c.byToken[o.tokenHash] == o.Code {
			s.TokenHash = append([]byte(nil), o.tokenHash[:]...)
		}
		snap.Orders = append(snap.Orders, s)
	}
	c.mu.RUnlock()
	slices.SortFunc(snap.Orders, func(a, b snapshotOrder) int { return strings.Compare(a.Code, b.Code) })
	data, err := json.Marshal(snap)
	return centralSnapshotVersion, data, err
}

// Restore thaws a Snapshot into the (empty) model.
func (c *Central) Restore(version int, data []byte) error {
	if version != centralSnapshotVersion {
		return fmt.Errorf("registration: snapshot version %d, this build reads %d", version, centralSnapshotVersion)
	}
	var snap centralSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("registration: snapshot: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range snap.Orders {
		o := &CentralOrder{Code: s.Code, Site: s.Site, Kind: s.Kind, Delivery: s.Delivery, Copies: s.Copies, FeeCents: s.FeeCents,
			Payment: s.Payment, Status: s.Status, Reason: s.Reason, PlacedAt: workflow.AtMillis(s.PlacedAt), UpdatedAt: workflow.AtMillis(s.UpdatedAt), Lang: s.Lang}
		if len(s.TokenHash) == sha256.Size {
			copy(o.tokenHash[:], s.TokenHash)
			c.byToken[o.tokenHash] = o.Code
		}
		c.byCode[o.Code] = o
	}
	return nil
}
