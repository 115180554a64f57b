package ui

// Texts of the service groups on central's catalogue pages (staff
// surfaces: German and English only).
func init() {
	for lang, m := range map[string]map[string]string{"de": {
		"admin.service.group":            "Gruppe",
		"admin.service.group.none":       "Keine Gruppe (eigener Kennbuchstabe)",
		"admin.service.group.hint":       "Alle Dienstleistungen einer Gruppe ziehen Nummern aus einer gemeinsamen Folge mit dem Kennbuchstaben der Gruppe (A001, A002 …).",
		"admin.service.prefix.grouphint": "Ein Großbuchstabe A–Z; beginnt die Wartenummer (A042). In einer Gruppe gilt der Buchstabe der Gruppe: dann leer lassen.",
		"admin.groups":                   "Gruppen",
		"admin.groups.lead":              "Dienstleistungen einer Gruppe teilen sich Kennbuchstaben und Nummernfolge. Gilt stadtweit: wird beim Speichern an alle %d Standorte gesendet.",
		"admin.groups.none":              "Noch keine Gruppen.",
		"admin.group.members":            "Dienstleistungen",
		"admin.group.new":                "Neue Gruppe",
		"admin.group.edit":               "Gruppe „%s“ bearbeiten",
		"admin.group.id":                 "Kennung der Gruppe",
		"admin.group.id.hint":            "2–32 Kleinbuchstaben, Ziffern oder Bindestriche, z. B. „ausweis-pass“. Kann später nicht geändert werden.",
		"admin.group.name":               "Name der Gruppe (deutsch)",
		"admin.group.name_en":            "Name der Gruppe (englisch)",
		"admin.group.prefix":             "Kennbuchstabe der Gruppe",
		"admin.group.prefix.hint":        "Ein Großbuchstabe A–Z, den keine andere Gruppe und keine Dienstleistung ohne Gruppe trägt.",
		"admin.group.save":               "Gruppe speichern und an alle Standorte senden",
		"admin.saved.group":              "Gespeichert. Die Gruppe wird an alle Standorte übertragen.",
	}, "en": {
		"admin.service.group":            "Group",
		"admin.service.group.none":       "No group (own prefix)",
		"admin.service.group.hint":       "All services of a group draw numbers from one shared sequence with the group's prefix (A001, A002 …).",
		"admin.service.prefix.grouphint": "One capital letter A–Z; starts the ticket number (A042). In a group the group's letter applies: leave it empty then.",
		"admin.groups":                   "Groups",
		"admin.groups.lead":              "The services of a group share its prefix and number sequence. City-wide: saving sends it to all %d sites.",
		"admin.groups.none":              "No groups yet.",
		"admin.group.members":            "Services",
		"admin.group.new":                "New group",
		"admin.group.edit":               "Edit group “%s”",
		"admin.group.id":                 "Group id",
		"admin.group.id.hint":            "2–32 lower-case letters, digits or hyphens, e.g. “ausweis-pass”. Cannot be changed later.",
		"admin.group.name":               "Group name (German)",
		"admin.group.name_en":            "Group name (English)",
		"admin.group.prefix":             "Group prefix",
		"admin.group.prefix.hint":        "One capital letter A–Z that no other group and no ungrouped service has.",
		"admin.group.save":               "Save the group and send it to all sites",
		"admin.saved.group":              "Saved. The group is being sent to all sites.",
	}} {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
