// Package workflows lists the workflows beside the queue. It is the one
// place a new workflow is registered (docs/ARCHITECTURE.md, "How to add a
// workflow"): the site's store and central take every workflow from here.
package workflows

import (
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/workflow"
)

// Site returns the site parts of the workflows, for the appliance's store.
func Site() []workflow.Site {
	return []workflow.Site{
		registration.Site,
		appointment.Site,
		exam.Site,
		plates.Site,
		vehicle.Site,
	}
}

// Central returns new central read models of the workflows.
func Central() []workflow.Central {
	return []workflow.Central{
		registration.NewCentral(),
		appointment.NewCentral(),
		exam.NewCentral(),
		plates.NewCentral(),
		vehicle.NewCentral(), // i-Kfz applications: statuses, /verify
	}
}
