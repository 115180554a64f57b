package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
)

// Print job states (table print_jobs).
const (
	PrintPrinting = "printing" // handed to the printer, no answer yet
	PrintPrinted  = "printed"
	PrintFailed   = "failed"
)

// PrintJob is the record of a ticket's printing. There is at most one per
// ticket: a second press, a replayed request or a retry finds it and does
// not print again; only staff reprint (ReprintTicket).
type PrintJob struct {
	TicketID  string
	State     string
	Error     string // why the last attempt failed, in words for staff and logs
	Attempts  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BeginPrint claims a ticket's first print. It returns claimed true when
// the caller is to print now; otherwise the ticket has a job already and
// job is that job, to be reported as it stands.
func (s *Store) BeginPrint(ctx context.Context, ticketID string) (job PrintJob, claimed bool, err error) {
	if err := s.knownTicket(ticketID); err != nil {
		return job, false, err
	}
	now := s.now().UnixMilli()
	res, err := s.db.Write.ExecContext(ctx, `INSERT INTO print_jobs (ticket_id, state, attempts, created_at, updated_at)
		VALUES (?, ?, 1, ?, ?) ON CONFLICT (ticket_id) DO NOTHING`, ticketID, PrintPrinting, now, now)
	if err != nil {
		return job, false, fmt.Errorf("store: begin print: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return PrintJob{TicketID: ticketID, State: PrintPrinting, Attempts: 1,
			CreatedAt: time.UnixMilli(now), UpdatedAt: time.UnixMilli(now)}, true, nil
	}
	job, _, err = s.printJob(ctx, s.db.Write, ticketID)
	return job, false, err
}

// ReprintTicket claims a print that staff asked for explicitly: allowed
// whatever became of the earlier attempts, except while one is still
// running (ECONFLICT).
func (s *Store) ReprintTicket(ctx context.Context, ticketID string) error {
	if err := s.knownTicket(ticketID); err != nil {
		return err
	}
	now := s.now().UnixMilli()
	res, err := s.db.Write.ExecContext(ctx, `INSERT INTO print_jobs (ticket_id, state, attempts, created_at, updated_at)
		VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (ticket_id) DO UPDATE SET state = excluded.state, error = '', attempts = attempts + 1, updated_at = excluded.updated_at
		WHERE print_jobs.state != ? OR print_jobs.updated_at < ?`,
		ticketID, PrintPrinting, now, now, PrintPrinting, now-stalePrint.Milliseconds())
	if err != nil {
		return fmt.Errorf("store: reprint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return veedel.Errorf(veedel.ECONFLICT, "Das Ticket wird gerade gedruckt / the ticket is being printed right now")
	}
	return nil
}

// stalePrint is how long a job may stay "printing" before staff may
// reprint it anyway (the appliance stopped while printing).
const stalePrint = time.Minute

// FinishPrint records the outcome of the attempt BeginPrint or
// ReprintTicket claimed: printErr "" for printed, else why it failed.
func (s *Store) FinishPrint(ctx context.Context, ticketID, printErr string) error {
	state := PrintPrinted
	if printErr != "" {
		state = PrintFailed
	}
	_, err := s.db.Write.ExecContext(ctx, `UPDATE print_jobs SET state = ?, error = ?, updated_at = ? WHERE ticket_id = ?`,
		state, printErr, s.now().UnixMilli(), ticketID)
	if err != nil {
		return fmt.Errorf("store: finish print: %w", err)
	}
	return nil
}

// PrintJob returns a ticket's print job (found false: never printed).
func (s *Store) PrintJob(ctx context.Context, ticketID string) (PrintJob, bool, error) {
	return s.printJob(ctx, s.db.Read, ticketID)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) printJob(ctx context.Context, db queryRower, ticketID string) (PrintJob, bool, error) {
	j := PrintJob{TicketID: ticketID}
	var created, updated int64
	err := db.QueryRowContext(ctx, `SELECT state, error, attempts, created_at, updated_at FROM print_jobs WHERE ticket_id = ?`, ticketID).
		Scan(&j.State, &j.Error, &j.Attempts, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return PrintJob{}, false, nil
	}
	if err != nil {
		return PrintJob{}, false, fmt.Errorf("store: print job: %w", err)
	}
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return j, true, nil
}

// knownTicket refuses to keep print jobs of tickets the site never issued.
func (s *Store) knownTicket(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Tickets[id] == nil {
		return veedel.Errorf(veedel.ENOTFOUND, "Ticket nicht gefunden / ticket not found")
	}
	return nil
}

// keepPrintJobs is how long print records are kept: long enough for staff
// to answer "did my ticket print last week?", short enough that the table
// stays small on a box that prints thousands of tickets a month.
const keepPrintJobs = 14 * 24 * time.Hour

// prunePrintJobs forgets print records older than keepPrintJobs; it runs
// in the transaction that starts a business day (expireBefore).
func prunePrintJobs(ctx context.Context, tx *sql.Tx, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM print_jobs WHERE created_at < ?`, at.Add(-keepPrintJobs).UnixMilli()); err != nil {
		return fmt.Errorf("store: prune print jobs: %w", err)
	}
	return nil
}
