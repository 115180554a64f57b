package ui

// Texts of the SMS sign-up on central's status page (central/server,
// smsportal.go). The form itself reuses the kiosk's "ticket.sms.*" texts
// (title, lead, number, consent, submit, errors, "set up").
func init() {
	for lang, add := range map[string]map[string]string{
		"de": {
			"status.sms.pending":     "Ihre Nummer wird an den Standort übermittelt …",
			"status.sms.refresh":     "Seite neu laden",
			"status.sms.unreachable": "Der Standort war nicht erreichbar: Ihre Nummer wurde nicht übermittelt und ist gelöscht. Bitte versuchen Sie es noch einmal oder melden Sie sich am Kiosk vor Ort an.",
			"status.sms.refused":     "Die SMS-Benachrichtigung wurde nicht eingerichtet: Ihr Ticket wartet nicht mehr.",
			"status.sms.lost":        "Wir können nicht bestätigen, dass Ihre Nummer angekommen ist. Bitte geben Sie sie noch einmal ein.",
			"status.sms.closed":      "Für dieses Ticket ist keine SMS-Anmeldung mehr möglich: Es wartet nicht mehr.",
			"status.sms.unavailable": "Die SMS-Anmeldung ist gerade nicht möglich. Bitte versuchen Sie es in ein paar Minuten noch einmal oder melden Sie sich am Kiosk vor Ort an.",
		},
		"en": {
			"status.sms.pending":     "Your number is being passed to the site …",
			"status.sms.refresh":     "Reload page",
			"status.sms.unreachable": "The site could not be reached: your number was not passed on and has been deleted. Please try again, or sign up at the kiosk on site.",
			"status.sms.refused":     "The SMS notification was not set up: your ticket is no longer waiting.",
			"status.sms.lost":        "We cannot confirm that your number arrived. Please enter it again.",
			"status.sms.closed":      "SMS sign-up is no longer possible for this ticket: it is no longer waiting.",
			"status.sms.unavailable": "SMS sign-up is not possible right now. Please try again in a few minutes, or sign up at the kiosk on site.",
		},
		"tr": {
			"status.sms.pending":     "Numaranız şubeye iletiliyor …",
			"status.sms.refresh":     "Sayfayı yenile",
			"status.sms.unreachable": "Şubeye ulaşılamadı: numaranız iletilmedi ve silindi. Lütfen tekrar deneyin veya yerinde kiosktan kaydolun.",
			"status.sms.refused":     "SMS bildirimi ayarlanmadı: sıra numaranız artık beklemede değil.",
			"status.sms.lost":        "Numaranızın ulaştığını doğrulayamıyoruz. Lütfen tekrar girin.",
			"status.sms.closed":      "Bu sıra numarası için artık SMS kaydı yapılamaz: beklemede değil.",
			"status.sms.unavailable": "SMS kaydı şu anda mümkün değil. Lütfen birkaç dakika sonra tekrar deneyin veya yerinde kiosktan kaydolun.",
		},
		"ar": {
			"status.sms.pending":     "يجري إرسال رقمك إلى المركز …",
			"status.sms.refresh":     "إعادة تحميل الصفحة",
			"status.sms.unreachable": "تعذّر الوصول إلى المركز: لم يُرسَل رقمك وتم حذفه. يُرجى المحاولة مرة أخرى أو التسجيل عبر جهاز الخدمة الذاتية في المكان.",
			"status.sms.refused":     "لم يتم تفعيل إشعار الرسائل القصيرة: تذكرتك لم تعد في الانتظار.",
			"status.sms.lost":        "لا يمكننا التأكد من وصول رقمك. يُرجى إدخاله مرة أخرى.",
			"status.sms.closed":      "لم يعد التسجيل للرسائل القصيرة ممكنًا لهذه التذكرة: لم تعد في الانتظار.",
			"status.sms.unavailable": "التسجيل للرسائل القصيرة غير ممكن حاليًا. يُرجى المحاولة بعد بضع دقائق أو التسجيل عبر جهاز الخدمة الذاتية في المكان.",
		},
	} {
		// Runs after i18n_citizen.go's init (files initialise in name
		// order), which makes the tr and ar tables.
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for k, v := range add {
			texts[lang][k] = v
		}
	}
}
