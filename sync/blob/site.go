package blob

import (
	"context"
	"fmt"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/workflow"
)

// Directions of a site's transfers.
const (
	Down = "down" // central to the site
	Up   = "up"   // the site to central
)

// Want records, in the workflow's transaction at the site, that the site
// needs the file ref names from central (an entry central sent references
// it): the transfer fetches it, and Store.Open finds it once it is
// complete. Wanting a file twice, or one the site has, changes nothing.
func Want(ctx context.Context, q workflow.Querier, ref Ref) error {
	return want(ctx, q, Down, ref)
}

// Offer records, in the workflow's transaction at the site, that one of
// the site's own events references the file ref names, which the site has
// put into its Store: the transfer sends it up to central (which takes it
// only for a file the site's log references, so the event must be in the
// same transaction). Offering a file twice changes nothing.
func Offer(ctx context.Context, q workflow.Querier, ref Ref) error {
	return want(ctx, q, Up, ref)
}

func want(ctx context.Context, q workflow.Querier, dir string, ref Ref) error {
	if err := (&Files{}).CheckRef(ref); err != nil {
		return err
	}
	if dir == Up {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM blobs WHERE sha256 = ?`, ref.SHA256).Scan(&n); err != nil {
			return fmt.Errorf("blob: offer: %w", err)
		}
		if n == 0 {
			return veedel.Errorf(veedel.ECONFLICT, "file %.12s is offered but not stored: Put it first", ref.SHA256)
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO blob_transfers (sha256, direction, size, type, name) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		ref.SHA256, dir, ref.Size, ref.Type, ref.Name)
	if err != nil {
		return fmt.Errorf("blob: record %s transfer: %w", dir, err)
	}
	return nil
}
