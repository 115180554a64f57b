package vehicle

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// Central's side: the read model of every application's status, folded
// from the sites' outbound logs (submitted, supplemented) and the sites'
// own logs (every step after). It holds nothing personal: statuses, the
// reasons the site wrote for the applicant, and of an approved
// application what /verify shows (plate, FIN, valid-until) and the
// permit's Ref.

// CentralApplication is an application as central knows it.
type CentralApplication struct {
	ID         string
	Site       string
	Company    string // the business account that submitted it ("": a citizen)
	Process    string
	Status     string
	Reason     string
	Plate      string
	ValidUntil string
	Permit     blob.Ref // approved: the provisional proof (a blob at central once synced)
	Posted     bool     // the documents and seals went out
	Lang       string
	Submitted  time.Time
	Updated    time.Time
	// Files are the attachments central sent the site (the application's
	// and its supplements').
	Files []blob.Ref
	// PermitErased: central let the permit go (EraseVehicleFiles).
	PermitErased bool
	// Done is when it was done as the site counts it (rejected, or its
	// documents posted): its files' keeping time runs from there.
	Done time.Time
	// The applicant's last answer to a request for more, as central sent
	// it on: when, whether it had a note (sealed: central keeps no text)
	// and its files' names, for the status page's confirmation.
	Answered    time.Time
	AnswerNote  bool
	AnswerFiles []string
	tokenHash   [sha256.Size]byte
}

// View is the application as its status page and the API show it;
// permitURL is where the permit is served ("" while there is none).
func (a CentralApplication) View(permitURL string) StatusView {
	v := StatusView{ID: a.ID, Process: a.Process, Status: a.Status, Reason: a.Reason, Plate: a.Plate, ValidUntil: a.ValidUntil}
	if a.Status == StatusApproved && a.Permit.SHA256 != "" && !a.PermitErased {
		v.PermitURL = permitURL
	}
	return v
}

// Verification is what /verify/{code} shows of an approved application:
// nothing personal.
type Verification struct {
	Plate      string `json:"plate"`
	FIN        string `json:"fin"`
	ValidUntil string `json:"valid_until"` // YYYY-MM-DD, the last day the provisional proof is valid
}

// Valid reports whether the proof is still valid at now in loc (through
// its last day).
func (v Verification) Valid(now time.Time, loc *time.Location) bool {
	last, err := time.ParseInLocation(time.DateOnly, v.ValidUntil, loc)
	return err == nil && now.Before(last.AddDate(0, 0, 1))
}

// Central is the read model; safe for concurrent use.
type Central struct {
	mu      sync.RWMutex
	byID    map[string]*CentralApplication
	byToken map[[sha256.Size]byte]string
	byCode  map[string]Verification
	open    map[string]int // undecided applications by site
	hooks   []func(StatusChange)
	// settings are the sites' settings, by site.
	settings map[string]SiteSettings
	// erased records which of an application's files central has let
	// go (EraseVehicleFiles; not folded, not in the snapshot: after a
	// start the erasure finds them again, and a release is idempotent).
	erased map[FileRelease]bool
}

// NewCentral returns an empty read model.
func NewCentral() *Central {
	return &Central{byID: map[string]*CentralApplication{}, byToken: map[[sha256.Size]byte]string{}, byCode: map[string]Verification{},
		settings: map[string]SiteSettings{}, erased: map[FileRelease]bool{}, open: map[string]int{}}
}

// Prefix is the workflow's prefix.
func (c *Central) Prefix() string { return Prefix }

// NewPayload returns a pointer to a zero payload of one of the
// workflow's event types.
func (c *Central) NewPayload(t string) (any, bool) { return NewPayload(t) }

// NewPayload returns a pointer to a zero payload of an event type, false
// for a type this build does not know.
func NewPayload(eventType string) (any, bool) {
	switch eventType {
	case TypeSubmitted:
		return &ApplicationSubmitted{}, true
	case TypeSupplemented:
		return &ApplicationSupplemented{}, true
	case TypeReceived:
		return &ApplicationReceived{}, true
	case TypeClaimed:
		return &ApplicationClaimed{}, true
	case TypeCheckRecorded:
		return &CheckRecorded{}, true
	case TypeInfoRequested:
		return &InfoRequested{}, true
	case TypeApproved:
		return &ApplicationApproved{}, true
	case TypeRejected:
		return &ApplicationRejected{}, true
	case TypeSentByPost:
		return &DocumentsPosted{}, true
	case TypeSettingsChanged:
		return &SettingsChanged{}, true
	}
	return nil, false
}

// Entity is the change-log entity of application id.
func Entity(id string) string { return "vehicle/" + id }

// OnChange adds a hook called with every status change the model folds
// (a citizen's message, a company's webhook). It is called outside the
// model's lock, serially per site, and again for every change when
// central folds the logs anew at start-up: a hook that must act once
// keys its work by (ID, Status, At).
func (c *Central) OnChange(fn func(StatusChange)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks = append(c.hooks, fn)
}

// Sent folds what central sent a site.
func (c *Central) Sent(site string, e workflow.Event) {
	var change *StatusChange
	c.mu.Lock()
	switch p := e.Payload.(type) {
	case *ApplicationSubmitted:
		a := c.application(site, p)
		a.addFiles(p.Attachments)
		if a.Status == "" {
			change = c.set(a, StatusSubmitted, "", e.At)
		}
	case *ApplicationSupplemented:
		// The applicant answered: on its way back to the site.
		if a := c.byID[p.ID]; a != nil && a.Site == site {
			a.addFiles(p.Attachments)
			if a.Status == StatusInfoRequested {
				change = c.set(a, StatusSubmitted, "", e.At)
				a.Answered, a.AnswerNote, a.AnswerFiles = e.At, len(p.Sealed) > 0, nil
				for _, f := range p.Attachments {
					a.AnswerFiles = append(a.AnswerFiles, f.File.Name)
				}
			}
		}
	}
	hooks := c.hooks
	c.mu.Unlock()
	notify(hooks, change)
}

// application returns the application of p, made from p when new;
// requires c.mu.
func (c *Central) application(site string, p *ApplicationSubmitted) *CentralApplication {
	a := c.byID[p.ID]
	if a == nil {
		a = &CentralApplication{ID: p.ID, Site: site, Process: p.Process, Company: p.Company, Lang: p.Lang,
			Submitted: time.UnixMilli(p.Submitted)}
		c.byID[p.ID] = a
		if len(p.TokenHash) == sha256.Size {
			copy(a.tokenHash[:], p.TokenHash)
			c.byToken[a.tokenHash] = p.ID
		}
	}
	return a
}

// addFiles adds the files of attachments a does not name yet.
func (a *CentralApplication) addFiles(files []Attachment) {
	for _, f := range files {
		if f.File.SHA256 != "" && !slices.ContainsFunc(a.Files, func(r blob.Ref) bool { return r.SHA256 == f.File.SHA256 }) {
			a.Files = append(a.Files, f.File)
		}
	}
}

// set changes a's status; requires c.mu. It returns the change.
func (c *Central) set(a *CentralApplication, status, reason string, at time.Time) *StatusChange {
	if was, is := undecided(a.Status), undecided(status); was != is {
		if is {
			c.open[a.Site]++
		} else {
			c.open[a.Site]--
		}
	}
	a.Status, a.Reason, a.Updated = status, reason, at
	return &StatusChange{ID: a.ID, Company: a.Company, Status: status, Plate: a.Plate, Reason: reason, At: at.UnixMilli()}
}

// undecided reports whether an application of status waits for its
// site's decision ("": not folded yet).
func undecided(status string) bool {
	return status != "" && status != StatusApproved && status != StatusRejected
}

// Open returns how many applications each site has not decided yet
// (submitted, at the site, in review or waiting for the applicant), as
// central routes a new application by (central/vehicle_routing.go).
func (c *Central) Open() map[string]int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]int, len(c.open))
	for site, n := range c.open {
		if n > 0 {
			out[site] = n
		}
	}
	return out
}

func notify(hooks []func(StatusChange), change *StatusChange) {
	if change == nil {
		return
	}
	for _, h := range hooks {
		h(*change)
	}
}

// FromSite folds a step the owning site logged. Steps never go back:
// a decision stays, whatever arrives late.
func (c *Central) FromSite(site string, e workflow.Event) {
	var change *StatusChange
	c.mu.Lock()
	defer func() {
		hooks := c.hooks
		c.mu.Unlock()
		notify(hooks, change)
	}()
	if p, ok := e.Payload.(*SettingsChanged); ok {
		c.settings[site] = SiteSettings{FourEyes: p.FourEyes, By: p.Staff, At: e.At}
		return
	}
	if p, ok := e.Payload.(*ApplicationReceived); ok {
		// The site's log may be folded before central's outbound log.
		a := c.application(site, &p.ApplicationSubmitted)
		if a.Site == site {
			a.addFiles(p.Attachments)
		}
		if a.Site == site && (a.Status == "" || a.Status == StatusSubmitted || a.Status == StatusInfoRequested) {
			change = c.set(a, StatusAtSite, "", e.At)
		}
		return
	}
	a := c.byID[idOf(e.Payload)]
	if a == nil || a.Site != site {
		return // not an application this site owns
	}
	decided := a.Status == StatusApproved || a.Status == StatusRejected
	switch p := e.Payload.(type) {
	case *ApplicationClaimed:
		if a.Status == StatusAtSite || a.Status == StatusSubmitted {
			change = c.set(a, StatusInReview, "", e.At)
		}
	case *InfoRequested:
		if !decided {
			change = c.set(a, StatusInfoRequested, p.Reason, e.At)
		}
	case *ApplicationApproved:
		if !decided {
			a.Plate, a.ValidUntil, a.Permit = p.Plate, p.ValidUntil, p.Permit
			if p.Code != "" {
				c.byCode[p.Code] = Verification{Plate: p.Plate, FIN: p.FIN, ValidUntil: p.ValidUntil}
			}
			change = c.set(a, StatusApproved, "", e.At)
		}
	case *ApplicationRejected:
		if !decided {
			a.Done = e.At
			change = c.set(a, StatusRejected, p.Reason, e.At)
		}
	case *DocumentsPosted:
		a.Posted = true
		if a.Done.IsZero() {
			a.Done = e.At
		}
	}
}

func idOf(p any) string {
	switch p := p.(type) {
	case *ApplicationClaimed:
		return p.ID
	case *CheckRecorded:
		return p.ID
	case *InfoRequested:
		return p.ID
	case *ApplicationApproved:
		return p.ID
	case *ApplicationRejected:
		return p.ID
	case *DocumentsPosted:
		return p.ID
	}
	return ""
}

// SiteSettings are a registration site's settings as its log last set
// them: the four-eyes check, who set it and when.
type SiteSettings struct {
	FourEyes bool
	By       string
	At       time.Time
}

// Settings returns site's settings; false while its log set none (the
// four-eyes check is off then).
func (c *Central) Settings(site string) (SiteSettings, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st, ok := c.settings[site]
	return st, ok
}

// ByToken returns the application of an applicant's status token.
func (c *Central) ByToken(token string) (CentralApplication, bool) {
	h := sha256.Sum256([]byte(token))
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.byToken[h]
	if !ok {
		return CentralApplication{}, false
	}
	return *c.byID[id], true
}

// ByID returns an application by its id (a company's dashboard).
func (c *Central) ByID(id string) (CentralApplication, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.byID[id]
	if !ok {
		return CentralApplication{}, false
	}
	return *a, true
}

// Verify returns what the police may see of a provisional proof's code.
func (c *Central) Verify(code string) (Verification, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.byCode[code]
	return v, ok
}

// FileRelease is a file central may let go of: its keeping time for the
// application is over (Erasable).
type FileRelease struct {
	ID     string // the application; its entity holds the file
	SHA256 string
	Permit bool
}

// Erasable returns the files whose keeping time at central is over at
// now: the attachments keep KeepDetails after the application was done
// (as at the site), the permit KeepDetails after its validity ended. A
// file another application still needs is not returned (files are stored
// once per content), nor one let go already (Erased).
func (c *Central) Erasable(now time.Time) []FileRelease {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cutoff := now.Add(-KeepDetails)
	needed := map[string]bool{}
	var out []FileRelease
	for _, a := range c.byID {
		filesDue := !a.Done.IsZero() && a.Done.Before(cutoff)
		permitDue := a.Permit.SHA256 != "" && a.ValidUntil != "" && a.ValidUntil < cutoff.UTC().Format(time.DateOnly)
		for _, f := range a.Files {
			r := FileRelease{ID: a.ID, SHA256: f.SHA256}
			switch {
			case !filesDue:
				needed[f.SHA256] = true
			case !c.erased[r]:
				out = append(out, r)
			}
		}
		r := FileRelease{ID: a.ID, SHA256: a.Permit.SHA256, Permit: true}
		switch {
		case r.SHA256 == "":
		case !permitDue:
			needed[r.SHA256] = true
		case !c.erased[r]:
			out = append(out, r)
		}
	}
	// Also when an application due and one not due share it, the one not
	// due still needs it: the due one's hold goes later.
	out = slices.DeleteFunc(out, func(r FileRelease) bool { return needed[r.SHA256] })
	slices.SortFunc(out, func(a, b FileRelease) int {
		if a.ID != b.ID {
			return strings.Compare(a.ID, b.ID)
		}
		return strings.Compare(a.SHA256, b.SHA256)
	})
	return out
}

// Erased records that central let go of a file Erasable returned.
func (c *Central) Erased(r FileRelease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.erased[r] = true
	if a := c.byID[r.ID]; a != nil && r.Permit {
		a.PermitErased = true
	}
}
