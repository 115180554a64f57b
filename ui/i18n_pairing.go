package ui

// Texts of kiosk pairing (appliance/server/pairing.go): the kiosk's note
// for staff and its limit message in every citizen language ("kiosk.*");
// the pairing form on the kiosk ("pair.*") and the desk's kiosk page
// ("kiosks.*") in German and English, for staff.
var pairingTexts = map[string]map[string]string{
	"de": {
		"kiosk.limited":       "Bitte einen Moment Geduld: An diesem Gerät wurden gerade viele Nummern gezogen. Bitte in %d Sekunden noch einmal versuchen oder am Schalter fragen.",
		"kiosk.unpaired":      "Dieses Gerät ist nicht als Kiosk gekoppelt und gibt nur wenige Nummern kurz hintereinander aus.",
		"kiosk.unpaired.link": "Für das Personal: Kiosk koppeln",

		"pair.title":        "Kiosk koppeln",
		"pair.lead":         "Ein gekoppelter Kiosk gibt Nummern ohne Begrenzung aus. Ein nicht gekoppeltes Gerät gibt nur wenige Nummern kurz hintereinander aus, damit niemand im WLAN die Warteschlange füllen kann.",
		"pair.step1":        "Am Schalter anmelden (Teamleitung) und „Kiosks“ öffnen.",
		"pair.step2":        "Einen Namen für dieses Gerät eingeben, z. B. „Kiosk Eingang“, und „Kopplungscode erzeugen“ wählen.",
		"pair.step3":        "Den angezeigten Code hier eingeben. Er gilt 15 Minuten und nur einmal.",
		"pair.code":         "Kopplungscode",
		"pair.code.hint":    "8 Zeichen, z. B. K7QM-4XPA; Groß- und Kleinschreibung und der Bindestrich sind egal.",
		"pair.code.empty":   "Bitte den Kopplungscode vom Schalter eingeben.",
		"pair.code.wrong":   "Dieser Code ist unbekannt, schon benutzt oder abgelaufen. Bitte am Schalter einen neuen erzeugen.",
		"pair.code.limited": "Zu viele Versuche von diesem Gerät. Bitte in %d Sekunden noch einmal versuchen.",
		"pair.submit":       "Koppeln",
		"pair.done":         "Dieses Gerät ist als Kiosk „%s“ gekoppelt.",
		"pair.done.lead":    "Der Browser merkt sich die Kopplung (ein Cookie). Sie endet, wenn das Gerät am Schalter unter „Kiosks“ entkoppelt wird oder die Cookies des Browsers gelöscht werden; dann einfach neu koppeln.",
		"pair.tokiosk":      "Zum Kiosk",
		"pair.unpaired":     "Ohne Kopplung funktioniert der Kiosk trotzdem, nur begrenzt.",

		"kiosks.link":          "Kiosks",
		"kiosks.title":         "Kiosks",
		"kiosks.lead":          "Kiosks sind die Geräte im Wartebereich, an denen Nummern gezogen werden. Gekoppelte Kiosks geben Nummern ohne Begrenzung aus; jedes andere Gerät im Netz höchstens %d kurz hintereinander und dann eine alle %d Sekunden.",
		"kiosks.new":           "Kopplungscode für „%s“:",
		"kiosks.new.expires":   "Gültig bis %s Uhr, nur einmal.",
		"kiosks.new.step1":     "Am Kiosk im Browser öffnen:",
		"kiosks.new.step2":     "Den Code eingeben und „Koppeln“ wählen.",
		"kiosks.new.step3":     "Der Kiosk erscheint dann hier in der Liste.",
		"kiosks.new.link":      "Oder diesen Link am Kiosk öffnen, der Code ist dann schon eingetragen:",
		"kiosks.paired":        "Gekoppelte Kiosks",
		"kiosks.col.name":      "Name",
		"kiosks.col.paired":    "Gekoppelt",
		"kiosks.col.seen":      "Zuletzt gesehen",
		"kiosks.unpair":        "Entkoppeln",
		"kiosks.unpair.name":   "%s entkoppeln",
		"kiosks.unpair.hint":   "Entkoppeln wirkt sofort: das Gerät gibt danach nur noch begrenzt Nummern aus, bis es neu gekoppelt wird. Ein verlorenes oder ersetztes Gerät bitte entkoppeln.",
		"kiosks.none":          "Noch ist kein Kiosk gekoppelt.",
		"kiosks.open":          "Offene Kopplungscodes",
		"kiosks.open.until":    "gültig bis %s Uhr",
		"kiosks.create":        "Kiosk koppeln",
		"kiosks.name":          "Name des Geräts",
		"kiosks.name.hint":     "Woran Sie es in der Liste erkennen, z. B. „Kiosk Eingang“ oder „Kiosk 2. OG“.",
		"kiosks.create.submit": "Kopplungscode erzeugen",
	},
	"en": {
		"kiosk.limited":       "One moment, please: many tickets were just taken on this device. Please try again in %d seconds or ask at the desk.",
		"kiosk.unpaired":      "This device is not paired as a kiosk and takes only a few tickets in quick succession.",
		"kiosk.unpaired.link": "For staff: pair this kiosk",

		"pair.title":        "Pair a kiosk",
		"pair.lead":         "A paired kiosk takes tickets without limit. A device that is not paired takes only a few tickets in quick succession, so that nobody on the Wi-Fi can fill the queue.",
		"pair.step1":        "Log in at the desk (site lead) and open “Kiosks”.",
		"pair.step2":        "Enter a name for this device, e.g. “Kiosk entrance”, and choose “Create pairing code”.",
		"pair.step3":        "Enter the code shown there here. It is valid for 15 minutes, once.",
		"pair.code":         "Pairing code",
		"pair.code.hint":    "8 characters, e.g. K7QM-4XPA; upper or lower case and the dash do not matter.",
		"pair.code.empty":   "Please enter the pairing code from the desk.",
		"pair.code.wrong":   "This code is unknown, used or expired. Please create a new one at the desk.",
		"pair.code.limited": "Too many attempts from this device. Please try again in %d seconds.",
		"pair.submit":       "Pair",
		"pair.done":         "This device is paired as kiosk “%s”.",
		"pair.done.lead":    "The browser remembers the pairing (a cookie). It ends when the device is unpaired at the desk under “Kiosks” or the browser's cookies are deleted; then simply pair it again.",
		"pair.tokiosk":      "Go to the kiosk",
		"pair.unpaired":     "Without pairing the kiosk still works, within limits.",

		"kiosks.link":          "Kiosks",
		"kiosks.title":         "Kiosks",
		"kiosks.lead":          "Kiosks are the devices in the waiting area where citizens take tickets. Paired kiosks take tickets without limit; any other device on the network takes at most %d tickets in quick succession and then one every %d seconds.",
		"kiosks.new":           "Pairing code for “%s”:",
		"kiosks.new.expires":   "Valid until %s, once.",
		"kiosks.new.step1":     "On the kiosk, open in the browser:",
		"kiosks.new.step2":     "Enter the code and choose “Pair”.",
		"kiosks.new.step3":     "The kiosk then appears in the list here.",
		"kiosks.new.link":      "Or open this link on the kiosk, with the code filled in:",
		"kiosks.paired":        "Paired kiosks",
		"kiosks.col.name":      "Name",
		"kiosks.col.paired":    "Paired",
		"kiosks.col.seen":      "Last seen",
		"kiosks.unpair":        "Unpair",
		"kiosks.unpair.name":   "Unpair %s",
		"kiosks.unpair.hint":   "Unpairing takes effect at once: the device then takes tickets only within limits until it is paired again. Please unpair a lost or replaced device.",
		"kiosks.none":          "No kiosk is paired yet.",
		"kiosks.open":          "Open pairing codes",
		"kiosks.open.until":    "valid until %s",
		"kiosks.create":        "Pair a kiosk",
		"kiosks.name":          "Name of the device",
		"kiosks.name.hint":     "How you recognise it in the list, e.g. “Kiosk entrance” or “Kiosk 2nd floor”.",
		"kiosks.create.submit": "Create pairing code",
	},
	"tr": {
		"kiosk.limited":       "Lütfen biraz bekleyin: Bu cihazdan az önce çok sayıda numara alındı. Lütfen %d saniye sonra tekrar deneyin veya danışmaya sorun.",
		"kiosk.unpaired":      "Bu cihaz kiosk olarak eşleştirilmemiştir ve art arda yalnızca birkaç numara verir.",
		"kiosk.unpaired.link": "Personel için: kioskı eşleştir",
	},
	"ar": {
		"kiosk.limited":       "يرجى الانتظار قليلاً: تم سحب أرقام كثيرة من هذا الجهاز للتو. يرجى المحاولة مرة أخرى بعد %d ثانية أو السؤال في مكتب الخدمة.",
		"kiosk.unpaired":      "هذا الجهاز غير مقترن كجهاز خدمة ذاتية ويصدر عددًا قليلاً فقط من الأرقام المتتالية.",
		"kiosk.unpaired.link": "للموظفين: إقران الجهاز",
	},
}

// This file sorts after i18n_citizen.go, whose init makes texts["tr"] and
// texts["ar"]: package files' init functions run in that order.
func init() {
	for lang, m := range pairingTexts {
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
