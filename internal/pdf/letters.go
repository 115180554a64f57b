package pdf

import (
	"io"
	"time"

	"github.com/veedel/veedel"
)

// Letters is a mail merge: many letters in one PDF, each starting on a
// new page, for printing in one go (the exam invitations). A letter's
// own Lang and Title are not used: the document has one.
type Letters struct {
	Lang, Title string
	Date        time.Time
	Pages       []Letter
}

// Write writes every letter into one PDF. A letter whose address does
// not fit the window fails the whole document, naming its position.
func (ls Letters) Write(w io.Writer) error {
	if len(ls.Pages) == 0 {
		return veedel.Errorf(veedel.EINVALID, "Keine Briefe / no letters")
	}
	f := newDoc("P", "A4", ls.Lang, ls.Title, ls.Date)
	for i, l := range ls.Pages {
		if err := l.page(f); err != nil {
			if veedel.ErrorCode(err) == veedel.EINVALID {
				return veedel.Errorf(veedel.EINVALID, "Brief %d: %s / letter %d", i+1, veedel.ErrorMessage(err), i+1)
			}
			return err
		}
	}
	return f.Output(w)
}
