package agent

import (
	"context"
	"fmt"
	"os"
	"time"
)

// switchOver installs the staged bundle into the inactive slot and
// reboots. The state says "switching" (with the release it comes from)
// before the slot is touched, so that either release, whichever boots
// next, knows what happened.
func (a *Agent) switchOver(ctx context.Context) error {
	target := a.st.Target
	if err := a.save(State{State: Switching, Target: target, Size: a.st.Size, From: a.Version, Refused: a.st.Refused}); err != nil {
		return err
	}
	a.report(ctx)
	bundle := a.bundlePath(target)
	if _, err := a.Install(bundle); err != nil {
		st := State{State: Failed, Target: target, Refused: target, Reason: "install into the inactive slot: " + err.Error()}
		a.Logger.Error("update: install failed", "release", target, "err", err)
		os.Remove(bundle)
		return a.save(st)
	}
	os.Remove(bundle)
	a.Logger.Info("update: installed; rebooting", "release", target)
	if a.Reboot == nil {
		return nil
	}
	if err := a.Reboot(ctx); err != nil {
		return fmt.Errorf("reboot into %s: %w", target, err)
	}
	return nil
}

// prove runs the new release's proof until it passes (then the boot is
// blessed and the state is healthy) or ProveWithin has passed (then the
// reason is kept for the old release to report, and the box reboots: the
// boot counter goes down, and at zero the old slot boots).
func (a *Agent) prove(ctx context.Context) (bool, error) {
	err := fmt.Errorf("no proof configured")
	if a.Prove != nil {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = a.Prove(pctx)
		cancel()
	}
	if err == nil {
		if a.Bless != nil {
			if err := a.Bless(); err != nil {
				return false, fmt.Errorf("mark the boot good: %w", err)
			}
		}
		a.Logger.Info("update: the new release proved itself", "release", a.Version)
		if err := a.save(State{State: Healthy, Target: a.Version}); err != nil {
			return false, err
		}
		a.lastPoll = time.Time{} // tell central at once
		return true, nil
	}
	if a.Now().Sub(a.proveFrom) < a.ProveWithin {
		return false, nil // try again after a poll interval
	}
	reason := fmt.Sprintf("release %s did not prove itself within %s: %v", a.Version, a.ProveWithin, err)
	a.Logger.Error("update: " + reason)
	// The entry is marked bad before the reason is kept: the boot's
	// health check fails (and reboots) as soon as it reads the reason.
	if a.MarkBad != nil {
		if err := a.MarkBad(); err != nil {
			a.Logger.Error("update: mark the boot entry bad (the boot loader's tries remain)", "err", err)
		}
	}
	st := a.st
	st.Reason = reason
	if err := a.save(st); err != nil {
		return false, err
	}
	if a.Reboot == nil {
		return false, nil
	}
	return false, a.Reboot(ctx)
}

// report tells central the state now (best effort).
func (a *Agent) report(ctx context.Context) {
	if _, err := a.poll(ctx); err != nil {
		a.Logger.Warn("update: report", "err", err)
	}
}
