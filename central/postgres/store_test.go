package postgres_test

import (
	"context"
	"testing"

	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/postgres/pgtest"
	"github.com/veedel/veedel/central/storetest"
)

// TestStore runs the store suite that central/sqlite runs too, each test
// in a schema of its own.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		url := pgtest.URL(t)
		return func(ctx context.Context) (storetest.Store, error) {
			s, err := postgres.Open(ctx, url)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	})
}
