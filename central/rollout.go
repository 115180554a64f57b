package central

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/veedel/veedel"
)

// The rollout: which release each site should run. Central serves the
// release bundles (signed by the city's release key; the appliance
// verifies them, central only hands them out) and the plan, and the
// sites' update agents (package update/agent) poll it on their signed sync
// channel. Rings: the pilot sites get the plan's version first; once the
// plan's stage is "all", every site does. Paused stops handing the plan's
// version to anyone who does not run it yet; a pin holds one site at a
// version whatever the plan says (also while paused: it is a decision
// about that site alone).

// Rollout stages.
const (
	StagePilot = "pilot"
	StageAll   = "all"
)

// RolloutPlan is the rollout as an admin set it. Revision is the store's
// count of changes: a change names the revision it was made on, so two
// admins editing at once cannot overwrite each other unseen.
type RolloutPlan struct {
	Revision int64 `json:"revision"`
	// Version is the release the rollout brings sites to ("": none).
	Version string            `json:"version"`
	Stage   string            `json:"stage"`
	Pilots  []string          `json:"pilots"`
	Paused  bool              `json:"paused"`
	Pins    map[string]string `json:"pins"`
	// UpdatedAt is when the plan was last changed (set by the store).
	UpdatedAt time.Time `json:"updated_at"`
}

var releaseVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~-]{0,63}$`)

// Validate checks a plan an admin sent.
func (p *RolloutPlan) Validate() error {
	if p.Version != "" && !releaseVersion.MatchString(p.Version) {
		return veedel.Errorf(veedel.EINVALID, "version %q: letters, digits and . + ~ - only", p.Version)
	}
	switch p.Stage {
	case "":
		p.Stage = StagePilot
	case StagePilot, StageAll:
	default:
		return veedel.Errorf(veedel.EINVALID, "stage %q: pilot or all", p.Stage)
	}
	for i, s := range p.Pilots {
		p.Pilots[i] = strings.TrimSpace(s)
		if p.Pilots[i] == "" {
			return veedel.Errorf(veedel.EINVALID, "pilot sites: an empty site ID")
		}
	}
	slices.Sort(p.Pilots)
	p.Pilots = slices.Compact(p.Pilots)
	for site, v := range p.Pins {
		if strings.TrimSpace(site) == "" || !releaseVersion.MatchString(v) {
			return veedel.Errorf(veedel.EINVALID, "pin %q → %q: a site ID and a version", site, v)
		}
	}
	return nil
}

// For is the release site should run by the plan ("": stay as it is), and
// why, in words for the fleet view.
func (p RolloutPlan) For(site string) (version, why string) {
	if v, ok := p.Pins[site]; ok {
		return v, "pinned"
	}
	switch {
	case p.Version == "":
		return "", "no rollout"
	case p.Paused:
		return "", "rollout paused"
	case p.Stage == StageAll:
		return p.Version, "all sites"
	case slices.Contains(p.Pilots, site):
		return p.Version, "pilot"
	default:
		return "", "waits for the pilot ring"
	}
}

// UpdateReport is a site's update agent's state as it said at its last
// poll: the fleet view's update column.
type UpdateReport struct {
	Site string `json:"site"`
	// Version is the release the site runs, Slot its root slot (a or b).
	Version string `json:"version"`
	Slot    string `json:"slot,omitempty"`
	// State is idle, downloading, staged, switching, healthy, rolled-back
	// or failed (update/agent's states).
	State string `json:"state"`
	// Target is the release the agent works towards; Progress its
	// download in percent.
	Target   string `json:"target,omitempty"`
	Progress int    `json:"progress,omitempty"`
	// Reason says why a state is not what was wanted (a rollback, a
	// refused bundle), in the agent's words.
	Reason string `json:"reason,omitempty"`
	// BootedAt is when the site's box booted; DiskFree the data
	// partition's free bytes.
	BootedAt time.Time `json:"booted_at"`
	DiskFree int64     `json:"disk_free"`
	// ClockOffsetMS is the site's clock against central's when it polled
	// (positive: ahead), measured by central from the signed request's time.
	ClockOffsetMS int64     `json:"clock_offset_ms"`
	ReportedAt    time.Time `json:"reported_at"`
}

// UpdateStates are the states an agent reports.
var UpdateStates = []string{"idle", "downloading", "staged", "switching", "healthy", "rolled-back", "failed"}

// RolloutStore keeps the rollout plan and the sites' update reports.
type RolloutStore interface {
	// Rollout is the plan (Revision 0: never set).
	Rollout(ctx context.Context) (RolloutPlan, error)
	// SetRollout stores p if the stored plan is still at p.Revision
	// (else ECONFLICT) and returns it at its new revision.
	SetRollout(ctx context.Context, p RolloutPlan, at time.Time) (RolloutPlan, error)
	// PutUpdateReport keeps a site's latest report (one per site).
	PutUpdateReport(ctx context.Context, r UpdateReport) error
	// UpdateReports are every site's latest report, by site.
	UpdateReports(ctx context.Context) ([]UpdateReport, error)
}

// Rollout is the stored plan.
func (c *Central) Rollout(ctx context.Context) (RolloutPlan, error) { return c.store.Rollout(ctx) }

// SetRollout checks and stores an admin's plan (see RolloutStore).
func (c *Central) SetRollout(ctx context.Context, p RolloutPlan) (RolloutPlan, error) {
	if err := p.Validate(); err != nil {
		return RolloutPlan{}, err
	}
	for _, s := range append(slices.Clone(p.Pilots), mapKeys(p.Pins)...) {
		if _, err := c.DirectorySite(ctx, s); veedel.ErrorCode(err) == veedel.ENOTFOUND {
			return RolloutPlan{}, veedel.Errorf(veedel.EINVALID, "site %q is not in the site directory", s)
		} else if err != nil {
			return RolloutPlan{}, err
		}
	}
	return c.store.SetRollout(ctx, p, c.now())
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ReportUpdate records a site's report and answers with the release it
// should run.
func (c *Central) ReportUpdate(ctx context.Context, r UpdateReport) (version, why string, err error) {
	if !slices.Contains(UpdateStates, r.State) {
		return "", "", veedel.Errorf(veedel.EINVALID, "update state %q: one of %s", r.State, strings.Join(UpdateStates, ", "))
	}
	if len(r.Reason) > 500 {
		r.Reason = r.Reason[:500]
	}
	r.Progress = min(max(r.Progress, 0), 100)
	r.ReportedAt = c.now()
	if err := c.store.PutUpdateReport(ctx, r); err != nil {
		return "", "", fmt.Errorf("record the update report: %w", err)
	}
	p, err := c.store.Rollout(ctx)
	if err != nil {
		return "", "", err
	}
	version, why = p.For(r.Site)
	return version, why, nil
}

// UpdateReports are the sites' latest update reports.
func (c *Central) UpdateReports(ctx context.Context) ([]UpdateReport, error) {
	return c.store.UpdateReports(ctx)
}
