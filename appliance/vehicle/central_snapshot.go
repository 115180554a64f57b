package vehicle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// centralSnapshotVersion changes whenever centralSnapshot's shape does.
const centralSnapshotVersion = 3 // 3: the applicant's last answer (Answered, AnswerNote, AnswerFiles)

// centralSnapshot is the read model as central/snapshot.go stores it: the
// applications (statuses, and of approved ones what /verify and the
// status page show; the files' Refs), the verification codes and the
// sites' settings (version 2: files, done, settings). Nothing personal is in
// the model, so nothing personal is in its snapshot.
type centralSnapshot struct {
	Applications []snapshotApplication       `json:"applications"`
	Codes        map[string]Verification     `json:"codes,omitempty"`
	Settings     map[string]snapshotSettings `json:"settings,omitempty"` // by site
}

type snapshotSettings struct {
	FourEyes bool   `json:"four_eyes"`
	By       string `json:"by"`
	At       int64  `json:"at"`
}

type snapshotApplication struct {
	ID         string     `json:"id"`
	Site       string     `json:"site"`
	Company    string     `json:"company,omitempty"`
	Process    string     `json:"process"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	Plate      string     `json:"plate,omitempty"`
	ValidUntil string     `json:"valid_until,omitempty"`
	Permit     blob.Ref   `json:"permit"`
	Posted     bool       `json:"posted,omitempty"`
	Lang       string     `json:"lang,omitempty"`
	Submitted  int64      `json:"submitted"`
	Updated    int64      `json:"updated"`
	TokenHash  string     `json:"token_hash,omitempty"` // hex
	Files      []blob.Ref `json:"files,omitempty"`
	Done       int64      `json:"done,omitempty"`
	// The applicant's last answer to a request for more.
	Answered    int64    `json:"answered,omitempty"`
	AnswerNote  bool     `json:"answer_note,omitempty"`
	AnswerFiles []string `json:"answer_files,omitempty"`
}

var _ workflow.Snapshotter = (*Central)(nil)

// Snapshot freezes the applications, in the order of their id, and the
// verification codes.
func (c *Central) Snapshot() (int, any) {
	c.mu.RLock()
	snap := centralSnapshot{Applications: make([]snapshotApplication, 0, len(c.byID)), Codes: make(map[string]Verification, len(c.byCode))}
	for _, a := range c.byID {
		sa := snapshotApplication{ID: a.ID, Site: a.Site, Company: a.Company, Process: a.Process, Status: a.Status,
			Reason: a.Reason, Plate: a.Plate, ValidUntil: a.ValidUntil, Permit: a.Permit, Posted: a.Posted, Lang: a.Lang,
			Submitted: workflow.Millis(a.Submitted), Updated: workflow.Millis(a.Updated), Files: slices.Clone(a.Files), Done: workflow.Millis(a.Done),
			Answered: workflow.Millis(a.Answered), AnswerNote: a.AnswerNote, AnswerFiles: slices.Clone(a.AnswerFiles)}
		if a.tokenHash != ([sha256.Size]byte{}) {
			sa.TokenHash = hex.EncodeToString(a.tokenHash[:])
		}
		snap.Applications = append(snap.Applications, sa)
	}
	for code, v := range c.byCode {
		snap.Codes[code] = v
	}
	if len(c.settings) > 0 {
		snap.Settings = make(map[string]snapshotSettings, len(c.settings))
		for site, st := range c.settings {
			snap.Settings[site] = snapshotSettings{FourEyes: st.FourEyes, By: st.By, At: workflow.Millis(st.At)}
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(snap.Applications, func(a, b snapshotApplication) int { return strings.Compare(a.ID, b.ID) })
	return centralSnapshotVersion, snap
}

// Restore thaws a Snapshot into the (empty) model; the hooks stay those
// the model was given.
func (c *Central) Restore(version int, data []byte) error {
	var snap centralSnapshot
	if err := workflow.DecodeSnapshot("vehicle", version, centralSnapshotVersion, data, &snap); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sa := range snap.Applications {
		a := &CentralApplication{ID: sa.ID, Site: sa.Site, Company: sa.Company, Process: sa.Process, Status: sa.Status,
			Reason: sa.Reason, Plate: sa.Plate, ValidUntil: sa.ValidUntil, Permit: sa.Permit, Posted: sa.Posted, Lang: sa.Lang,
			Submitted: workflow.AtMillis(sa.Submitted), Updated: workflow.AtMillis(sa.Updated), Files: sa.Files, Done: workflow.AtMillis(sa.Done),
			Answered: workflow.AtMillis(sa.Answered), AnswerNote: sa.AnswerNote, AnswerFiles: sa.AnswerFiles}
		if sa.TokenHash != "" {
			h, err := hex.DecodeString(sa.TokenHash)
			if err != nil || len(h) != sha256.Size {
				return fmt.Errorf("vehicle: snapshot: application %s: bad token hash", sa.ID)
			}
			copy(a.tokenHash[:], h)
			c.byToken[a.tokenHash] = a.ID
		}
		c.byID[a.ID] = a
		if undecided(a.Status) {
			c.open[a.Site]++
		}
	}
	for code, v := range snap.Codes {
		c.byCode[code] = v
	}
	for site, st := range snap.Settings {
		c.settings[site] = SiteSettings{FourEyes: st.FourEyes, By: st.By, At: workflow.AtMillis(st.At)}
	}
	return nil
}
