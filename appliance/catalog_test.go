package appliance_test

import (
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
)

// Every built-in seed is valid, and its groups number as the city wants:
// ID card and pick-up share A, address matters and certificates share B.
func TestCatalogSeeds(t *testing.T) {
	for id, seed := range appliance.Catalog {
		if err := seed.Validate(); err != nil {
			t.Errorf("seed %s: %v", id, err)
		}
	}
	st := queue.NewState("kalk")
	at := time.Date(2025, time.January, 13, 6, 0, 0, 0, time.UTC)
	for _, e := range appliance.Catalog["kalk"].Events(at) {
		st.Apply(e)
	}
	var got []string
	for i, svc := range []string{"ausweis", "abholung", "meldung", "bescheinigung", "ausweis"} {
		e, err := st.IssueTicket(at.Add(time.Duration(2+i)*time.Hour), svc, strings.Repeat("t", 21)+string(rune('a'+i)), "kiosk")
		if err != nil {
			t.Fatal(err)
		}
		st.Apply(e)
		got = append(got, e.Payload.(*queue.TicketIssued).Number)
	}
	if want := "A001 A002 B001 B002 A003"; strings.Join(got, " ") != want {
		t.Errorf("numbers %q, want %q", strings.Join(got, " "), want)
	}
}

const goodSeed = `{
  "site": {"id": "kfz-poll", "name": "Kfz-Zulassungsstelle Poll"},
  "groups": [{"id": "zulassung", "name": "Zulassung", "name_en": "Registration", "prefix": "Z"}],
  "services": [
    {"id": "neuzulassung", "name": "Neuzulassung", "group": "zulassung", "expected_minutes": 20},
    {"id": "umschreibung", "name": "Umschreibung", "prefix": "Z", "group": "zulassung", "expected_minutes": 15},
    {"id": "wunschkennzeichen", "name": "Wunschkennzeichen", "prefix": "W", "expected_minutes": 5}
  ],
  "counters": [{"id": "1", "name": "Schalter 1", "services": ["neuzulassung", "umschreibung", "wunschkennzeichen"]}]
}`

func TestReadSeedGroups(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		seed, err := appliance.ReadSeed(strings.NewReader(goodSeed))
		if err != nil {
			t.Fatal(err)
		}
		if got := seed.Services[0].Prefix; got != "Z" {
			t.Errorf("grouped service without a prefix got %q, want its group's Z", got)
		}
		events := seed.Events(time.Now())
		if events[1].Type != queue.TypeGroupDefined {
			t.Errorf("second event %s, want the group before the services", events[1].Type)
		}
	})
	for _, tt := range []struct {
		name, old, new, want string
	}{
		{"ErrUnknownGroup", `"group": "zulassung", "expected_minutes": 15`, `"group": "mars", "expected_minutes": 15`, `unknown group "mars"`},
		{"ErrGroupPrefixOfService", `"prefix": "W"`, `"prefix": "Z"`, `prefix "Z" is used by group "zulassung"`},
		{"ErrEmptyGroupPrefix", `"name_en": "Registration", "prefix": "Z"`, `"name_en": "Registration", "prefix": ""`, "prefix is missing"},
		{"ErrEmptyServicePrefix", `"prefix": "W"`, `"prefix": ""`, "prefix is missing"},
		{"ErrGroupTwice", `"prefix": "Z"}]`, `"prefix": "Z"}, {"id": "zulassung", "name": "Z2", "prefix": "Y"}]`, "defined twice"},
		{"ErrGroupsSharePrefix", `"prefix": "Z"}]`, `"prefix": "Z"}, {"id": "andere", "name": "Andere", "prefix": "Z"}]`, `prefix "Z" is used by group "zulassung"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(goodSeed, tt.old, tt.new, 1)
			if body == goodSeed {
				t.Fatalf("replacement %q not found", tt.old)
			}
			_, err := appliance.ReadSeed(strings.NewReader(body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
