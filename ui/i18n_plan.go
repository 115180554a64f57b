package ui

// Texts of the planned staffing on the site lead's setup page (staff
// surfaces: German and English only).
func init() {
	for lang, m := range map[string]map[string]string{"de": {
		"setup.plan":      "Geplante Besetzung von %s",
		"setup.plan.hint": "Wann der Platz an diesem Wochentag üblicherweise besetzt ist, z. B. „7:30–10:00, 10:30–15:00“ (Pause von 10:00 bis 10:30). Leer: kein Plan. Die Wartezeit-Schätzung rechnet mit dem Plan und mit den letzten Tagen.",
		"setup.plan.save": "Besetzung von %s speichern",
		"setup.planned":   "Geplante Besetzung von %s gespeichert.",
	}, "en": {
		"setup.plan":      "Planned staffing of %s",
		"setup.plan.hint": "When the counter is usually staffed on that weekday, e.g. “7:30–10:00, 10:30–15:00” (a break from 10:00 to 10:30). Empty: no plan. The wait estimate counts on the plan and on the recent days.",
		"setup.plan.save": "Save staffing of %s",
		"setup.planned":   "Planned staffing of %s saved.",
	}} {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
