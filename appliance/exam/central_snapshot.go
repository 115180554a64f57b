package exam

import (
	"slices"
	"strings"

	"github.com/veedel/veedel/workflow"
)

// centralSnapshotVersion changes whenever centralSnapshot's shape does.
const centralSnapshotVersion = 2

type centralSnapshot struct {
	Exams []snapshotExam `json:"exams"`
	// Kept are the children moved away whose old site kept them
	// (version 2).
	Kept []snapshotKept `json:"kept,omitempty"`
}

type snapshotKept struct {
	Child  string `json:"child"`
	Year   int    `json:"year"`
	Site   string `json:"site"`
	To     string `json:"to"`
	Status string `json:"status"`
	At     int64  `json:"at"`
}

type snapshotExam struct {
	// Exam is Stats.Exam, which Statistics' JSON leaves out.
	Exam  string     `json:"exam"`
	Site  string     `json:"site"`
	At    int64      `json:"at"`
	Stats Statistics `json:"stats"`
}

var _ workflow.Snapshotter = (*Central)(nil)

// Snapshot freezes the statistics records, in the order of their exam,
// and the children kept at their old site, in the order of the child.
func (c *Central) Snapshot() (int, any) {
	c.mu.RLock()
	snap := centralSnapshot{Exams: make([]snapshotExam, 0, len(c.exams))}
	for _, e := range c.exams {
		// The records' maps and lists are shared: a record is replaced
		// whole, never changed in place.
		snap.Exams = append(snap.Exams, snapshotExam{Exam: e.Exam, Site: e.site, At: workflow.Millis(e.at), Stats: e.Statistics})
	}
	for _, k := range c.kept {
		snap.Kept = append(snap.Kept, snapshotKept{Child: k.Child, Year: k.Year, Site: k.Site, To: k.To, Status: k.Status, At: workflow.Millis(k.At)})
	}
	c.mu.RUnlock()
	slices.SortFunc(snap.Exams, func(a, b snapshotExam) int { return strings.Compare(a.Exam, b.Exam) })
	slices.SortFunc(snap.Kept, func(a, b snapshotKept) int { return strings.Compare(a.Child, b.Child) })
	return centralSnapshotVersion, snap
}

// Restore thaws a Snapshot into the (empty) model.
func (c *Central) Restore(version int, data []byte) error {
	var snap centralSnapshot
	if err := workflow.DecodeSnapshot("exam", version, centralSnapshotVersion, data, &snap); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range snap.Exams {
		e.Stats.Exam = e.Exam
		c.exams[e.Exam] = centralExam{site: e.Site, at: workflow.AtMillis(e.At), Statistics: e.Stats}
	}
	for _, k := range snap.Kept {
		c.kept[k.Child] = KeptChild{Child: k.Child, Year: k.Year, Site: k.Site, To: k.To, Status: k.Status, At: workflow.AtMillis(k.At)}
	}
	return nil
}
