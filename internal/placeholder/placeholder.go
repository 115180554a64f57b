// Package placeholder writes SQL for database/sql in PostgreSQL's dialect:
// the stores that share one query text between SQLite and PostgreSQL
// (the mail outbox, the blob chunks) write ? and number it here.
package placeholder

import (
	"strconv"
	"strings"
)

// Dollar returns q with each ? replaced by $1, $2, … in order. The
// queries it is for have no ? inside string literals.
func Dollar(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
