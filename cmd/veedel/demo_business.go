package main

import (
	"context"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/login"
)

// The demo's company in the business portal (/unternehmen): a car dealer
// with a company admin and an API key.
const (
	demoCompanyID       = "autohaus-demo"
	demoCompanyName     = "Autohaus Demo GmbH"
	demoCompanyAdmin    = "chefin"
	demoCompanyPassword = "demo" // a loopback demo's, created in code as the other demo logins
	demoAPIKeyName      = "Demo"
)

// demoCompany creates the demo's company, its admin and an API key on the
// first start, and nothing on a later one (the admin's TOTP enrolment and
// the key stay). It returns the API key when it made one now: central
// keeps only its hash, so the demo can print it this once. The admin
// sets up the second factor at the first login, as every company user
// does (the portal shows the QR code and the secret).
func demoCompany(ctx context.Context, store centralStore, now time.Time) (string, error) {
	db, ok := store.(mailDB)
	if !ok {
		return "", fmt.Errorf("demo: central's store has no SQL handle for the business portal")
	}
	bs := &business.Store{DB: db.Writer()}
	err := bs.CreateCompany(ctx, demoCompanyID, demoCompanyName, now)
	if err != nil && veedel.ErrorCode(err) != veedel.ECONFLICT {
		return "", fmt.Errorf("demo: company: %w", err)
	}
	if _, err := bs.User(ctx, demoCompanyID, demoCompanyAdmin); veedel.ErrorCode(err) == veedel.ENOTFOUND {
		hash, err := login.HashPassword(demoCompanyPassword)
		if err != nil {
			return "", err
		}
		if err := bs.PutUser(ctx, demoCompanyID, demoCompanyAdmin, business.RoleAdmin, hash, now); err != nil {
			return "", fmt.Errorf("demo: company admin: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("demo: company admin: %w", err)
	}
	keys, err := bs.APIKeys(ctx, demoCompanyID)
	if err != nil {
		return "", fmt.Errorf("demo: API keys: %w", err)
	}
	for _, k := range keys {
		if k.Revoked.IsZero() {
			return "", nil // made at an earlier start
		}
	}
	_, key, err := bs.CreateAPIKey(ctx, demoCompanyID, demoAPIKeyName, now)
	if err != nil {
		return "", fmt.Errorf("demo: API key: %w", err)
	}
	return key, nil
}
