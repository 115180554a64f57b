package main

import (
	"slices"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

// seedDecider commits a site's catalogue entry as its first events.
func seedDecider(seed appliance.SiteSeed) sqlite.Decider {
	return func(_ *queue.State, at time.Time) ([]queue.Event, error) { return seed.Events(at), nil }
}

func siteIDs() []string {
	ids := make([]string, 0, len(appliance.Catalog))
	for id := range appliance.Catalog {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
