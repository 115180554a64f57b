package placeholder

import "testing"

func TestDollar(t *testing.T) {
	for q, want := range map[string]string{
		`SELECT 1`: `SELECT 1`,
		`INSERT INTO t (a, b, c) VALUES (?, ?, ?)`:            `INSERT INTO t (a, b, c) VALUES ($1, $2, $3)`,
		`DELETE FROM t WHERE a = ? AND NOT EXISTS (SELECT ?)`: `DELETE FROM t WHERE a = $1 AND NOT EXISTS (SELECT $2)`,
		`UPDATE t SET n = ? WHERE x IN (?,?,?,?,?,?,?,?,?,?)`: `UPDATE t SET n = $1 WHERE x IN ($2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
	} {
		if got := Dollar(q); got != want {
			t.Errorf("Dollar(%q) = %q, want %q", q, got, want)
		}
	}
}
