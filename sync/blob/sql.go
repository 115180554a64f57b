package blob

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/veedel/veedel/internal/placeholder"
	"time"

	"github.com/veedel/veedel"
)

// SQL keeps the chunks in the tables blobs (complete files) and
// blob_chunks (the chunks of complete and incomplete files), the same in
// the appliance's and central's SQLite and in central's PostgreSQL (each
// store's migrations create them). A file is visible once its blobs row
// is written, which Commit does last, after every chunk is on disk.
type SQL struct {
	Write, Read *sql.DB
	// Dollar numbers the placeholders $1, $2 (PostgreSQL) instead of ?.
	Dollar bool
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

var _ Chunks = (*SQL)(nil)

func (s *SQL) q(query string) string {
	if !s.Dollar {
		return query
	}
	return placeholder.Dollar(query)
}

func notFound(sha string) error {
	return veedel.Errorf(veedel.ENOTFOUND, "file %.12s is not here (yet)", sha)
}

// Stat implements Chunks: ENOTFOUND, wrapping ErrErased for a file
// erased here (release.go).
func (s *SQL) Stat(ctx context.Context, sha string) (Ref, error) {
	ref := Ref{SHA256: sha}
	err := s.Read.QueryRowContext(ctx, s.q(`SELECT size, type, name FROM blobs WHERE sha256 = ?`), sha).Scan(&ref.Size, &ref.Type, &ref.Name)
	if errors.Is(err, sql.ErrNoRows) {
		// Never here, not yet here, or erased (release.go)?
		var n int
		if err := s.Read.QueryRowContext(ctx, s.q(`SELECT count(*) FROM blob_erased WHERE sha256 = ?`), sha).Scan(&n); err != nil {
			return Ref{}, fmt.Errorf("blob: stat: %w", err)
		}
		if n > 0 {
			return Ref{}, erased(sha)
		}
		return Ref{}, notFound(sha)
	} else if err != nil {
		return Ref{}, fmt.Errorf("blob: stat: %w", err)
	}
	return ref, nil
}

// Chunk implements Chunks.
func (s *SQL) Chunk(ctx context.Context, sha string, i int) ([]byte, error) {
	var data []byte
	err := s.Read.QueryRowContext(ctx, s.q(`SELECT data FROM blob_chunks WHERE sha256 = ? AND idx = ?`), sha, i).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(sha)
	} else if err != nil {
		return nil, fmt.Errorf("blob: read chunk: %w", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// Received implements Chunks.
func (s *SQL) Received(ctx context.Context, sha string) (int, error) {
	var n int
	err := s.Write.QueryRowContext(ctx, s.q(`SELECT count(*) FROM blob_chunks WHERE sha256 = ?`), sha).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("blob: count chunks: %w", err)
	}
	return n, nil
}

// PutChunk implements Chunks.
func (s *SQL) PutChunk(ctx context.Context, sha string, i int, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	_, err := s.Write.ExecContext(ctx, s.q(`INSERT INTO blob_chunks (sha256, idx, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`), sha, i, data)
	if err != nil {
		return fmt.Errorf("blob: store chunk: %w", err)
	}
	return nil
}

// Commit implements Chunks.
func (s *SQL) Commit(ctx context.Context, ref Ref) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	_, err := s.Write.ExecContext(ctx, s.q(`INSERT INTO blobs (sha256, size, type, name, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		ref.SHA256, ref.Size, ref.Type, ref.Name, now().UnixMilli())
	if err != nil {
		return fmt.Errorf("blob: commit: %w", err)
	}
	return nil
}

// Discard implements Chunks. The chunks of a complete file stay.
func (s *SQL) Discard(ctx context.Context, sha string) error {
	_, err := s.Write.ExecContext(ctx, s.q(`DELETE FROM blob_chunks WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?)`), sha, sha)
	if err != nil {
		return fmt.Errorf("blob: discard: %w", err)
	}
	return nil
}

// Remove implements Chunks: the blobs row first, so that the file is
// never visible without all its chunks.
func (s *SQL) Remove(ctx context.Context, sha string) error {
	for _, q := range []string{`DELETE FROM blobs WHERE sha256 = ?`, `DELETE FROM blob_chunks WHERE sha256 = ?`} {
		if _, err := s.Write.ExecContext(ctx, s.q(q), sha); err != nil {
			return fmt.Errorf("blob: remove: %w", err)
		}
	}
	return nil
}
