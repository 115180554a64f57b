package central

import (
	"context"

	"github.com/veedel/veedel/internal/login"
)

// The business portal (central/business) keeps its tables in central's
// database and needs two things of central: the key that seals the
// companies' TOTP and webhook secrets, and the journal of failed logins
// (its logins are throttled like the admins', their failures listed at
// /admin/logins as "company/user").

// BusinessKey returns central's key for the business portal's secrets
// (32 bytes, made on first use and kept in central's store).
func (c *Central) BusinessKey(ctx context.Context) ([]byte, error) {
	return c.store.Secret(ctx, "business.key", 32, c.now())
}

// LoginJournal is where failed logins and known clients are kept.
func (c *Central) LoginJournal() login.Journal { return c.store }
