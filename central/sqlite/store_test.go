package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/central/storetest"
)

// TestStore runs the store suite that central/postgres runs too, each test
// on a file of its own.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "central.db")
		return func(ctx context.Context) (storetest.Store, error) {
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	})
}
