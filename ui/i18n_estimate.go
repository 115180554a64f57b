package ui

// Texts of the wait estimate's planned staffing (the site lead's setup
// page) and self-calibration (the statistics page); staff surfaces:
// German and English only.
func init() {
	for lang, m := range map[string]map[string]string{"de": {
		"setup.plan":      "Geplante Besetzung von %s",
		"setup.plan.hint": "Wann der Platz an diesem Wochentag üblicherweise besetzt ist, z. B. „7:30–10:00, 10:30–15:00“ (Pause von 10:00 bis 10:30). Leer: kein Plan. Die Wartezeit-Schätzung rechnet mit dem Plan und mit den letzten Tagen.",
		"setup.plan.save": "Besetzung von %s speichern",
		"setup.planned":   "Geplante Besetzung von %s gespeichert.",
		"calib.title":     "Selbstkalibrierung der Wartezeit-Schätzung",
		"calib.lead":      "Die Schätzung misst an jedem Aufruf, ob die Wartezeit über dem angezeigten P90 lag, und passt den Spielraum über dem Medianwert so an, dass etwa jede zehnte Person länger wartet: getrennt nach Anliegen, Tageszeit und kurzer oder langer angezeigter Wartezeit. Über alle bisherigen Tage.",
		"calib.service":   "Anliegen",
		"calib.site":      "Alle Anliegen",
		"calib.phase":     "Tageszeit",
		"calib.phase.0":   "erste Stunde",
		"calib.phase.1":   "Tagesmitte",
		"calib.phase.2":   "letzte Stunde",
		"calib.wait":      "Angezeigte Wartezeit",
		"calib.short":     "unter 20 Min.",
		"calib.long":      "ab 20 Min.",
		"calib.margin":    "Spielraum P90",
	}, "en": {
		"setup.plan":      "Planned staffing of %s",
		"setup.plan.hint": "When the counter is usually staffed on that weekday, e.g. “7:30–10:00, 10:30–15:00” (a break from 10:00 to 10:30). Empty: no plan. The wait estimate counts on the plan and on the recent days.",
		"setup.plan.save": "Save staffing of %s",
		"setup.planned":   "Planned staffing of %s saved.",
		"calib.title":     "Self-calibration of the wait estimate",
		"calib.lead":      "At every call the estimate measures whether the wait exceeded the P90 shown, and adjusts the margin above the median so that about one in ten waits longer: apart by service, time of day and short or long wait shown. Over all days so far.",
		"calib.service":   "Service",
		"calib.site":      "All services",
		"calib.phase":     "Time of day",
		"calib.phase.0":   "first hour",
		"calib.phase.1":   "mid-day",
		"calib.phase.2":   "last hour",
		"calib.wait":      "Wait shown",
		"calib.short":     "under 20 min",
		"calib.long":      "20 min or more",
		"calib.margin":    "P90 margin",
	}} {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
