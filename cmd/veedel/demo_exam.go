package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/workflow"
)

// demoEscrowFile is the demo's escrow private key in its data directory.
const demoEscrowFile = "exam-escrow.key"

// demoEscrowKey makes the demo's escrow key pair in data once and returns
// the public key's file.
func demoEscrowKey(data string) (string, error) {
	path := filepath.Join(data, demoEscrowFile)
	if _, err := os.Stat(path + ".pub"); err == nil {
		return path + ".pub", nil
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return "", err
	}
	if _, err := exam.WriteEscrowKey(path); err != nil {
		return "", fmt.Errorf("demo: escrow key: %w", err)
	}
	return path + ".pub", nil
}

// demoChildren are the demo's children on today's day list: invented
// names, addresses and codes.
var demoChildren = []exam.Registration{
	{Child: exam.Child{FamilyName: "Yılmaz", GivenNames: "Elif", BirthDate: "2020-10-14", Sex: exam.SexFemale, Street: "Venloer Straße 12", Postcode: "50672", City: "Köln", ParentName: "Ayşe Yılmaz", SchoolDistrict: "Innenstadt"}, Code: "DEMO-EX-0001", Slot: "08:30"},
	{Child: exam.Child{FamilyName: "Schmitz", GivenNames: "Jonas", BirthDate: "2021-02-03", Sex: exam.SexMale, Street: "Kalker Hauptstraße 5", Postcode: "51103", City: "Köln", ParentName: "Petra Schmitz", SchoolDistrict: "Kalk"}, Code: "DEMO-EX-0002", Slot: "09:15"},
	{Child: exam.Child{FamilyName: "Nowak", GivenNames: "Zofia", BirthDate: "2020-12-22", Sex: exam.SexFemale, Street: "Neusser Straße 88", Postcode: "50733", City: "Köln", ParentName: "Marek Nowak", SchoolDistrict: "Nippes"}, Code: "DEMO-EX-0003", Slot: "10:00"},
	{Child: exam.Child{FamilyName: "Haddad", GivenNames: "Karim", BirthDate: "2020-09-30", Sex: exam.SexMale, Street: "Deutz-Mülheimer Straße 40", Postcode: "51063", City: "Köln", ParentName: "Lina Haddad", SchoolDistrict: "Mülheim"}, Code: "DEMO-EX-0004", Slot: "10:45"},
	{Child: exam.Child{FamilyName: "Becker", GivenNames: "Mia", BirthDate: "2021-05-17", Sex: exam.SexFemale, Street: "Aachener Straße 301", Postcode: "50931", City: "Köln", ParentName: "Tim Becker", SchoolDistrict: "Lindenthal"}, Code: "DEMO-EX-0005", Slot: "11:30"},
}

// demoExams puts the demo's children on the school-health site's day
// list for today, through the workflow's own commands (as the assistant
// registering children at the desk): once per day, on each start.
func demoExams(ctx context.Context, store *sqlite.Store) error {
	today := demoExamDay(store)
	loc := time.Local
	store.View(func(st *queue.State) {
		if st.Site.Location != nil {
			loc = st.Site.Location
		}
	})
	list, err := exam.Day(ctx, store.Read(), today, loc, nil)
	if err != nil || len(list) > 0 {
		return err
	}
	year := time.Now().Year() + 1
	if time.Now().Month() >= time.October {
		year++
	}
	codes := demoExamCodes(today)
	for i, c := range demoChildren {
		c.Year, c.Day, c.Code = year, today, codes[i]
		_, err := store.ExecuteTx(ctx, func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
			cmd := exam.Command{Env: store.Env(), At: at, Day: st.DayOf(at), Staff: "assistenz", Role: exam.RoleAssistant}
			_, evs, err := cmd.Register(ctx, q, c)
			return evs, err
		})
		if err != nil {
			return fmt.Errorf("demo: child %d: %w", i+1, err)
		}
	}
	return nil
}

// demoExamCodes are the demo children's invitation codes of day
// (YYYY-MM-DD): a new set each day, as the children are put on each day's
// list.
func demoExamCodes(day string) []string {
	out := make([]string, len(demoChildren))
	for i, c := range demoChildren {
		out[i] = c.Code + "-" + day[5:7] + day[8:10]
	}
	return out
}

// demoExamDay is the site's business day now.
func demoExamDay(store *sqlite.Store) string {
	var day string
	store.View(func(st *queue.State) { day = st.DayOf(time.Now()) })
	return day
}
