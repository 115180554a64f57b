package ui

// CitizenKey reports whether a text key belongs to the citizens' surfaces
// (layout, kiosk, ticket, status page, portal): those must exist in every
// language of CitizenLangs. Desk, display and admin texts stay German and
// English.
func CitizenKey(key string) bool {
	switch key {
	case "city", "lang.name", "lang.menu", "skip", "minutes", "minutes.long", "error.title", "back",
		"notfound", "notfound.text", "unit.min", "refresh":
		return true
	}
	for _, prefix := range []string{"kiosk.", "ticket.", "status.", "portal."} {
		if len(key) > len(prefix) && key[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func init() {
	texts["tr"] = map[string]string{
		"city":          "Köln Belediyesi",
		"lang.name":     "Türkçe",
		"lang.menu":     "Dil",
		"skip":          "İçeriğe geç",
		"minutes":       "%d dk.",
		"minutes.long":  "%d dakika",
		"error.title":   "Bu işlem gerçekleştirilemedi",
		"back":          "Geri",
		"notfound":      "Sayfa bulunamadı",
		"notfound.text": "Bu adres mevcut değil.",
		"unit.min":      "dk.",
		"refresh":       "Yenile",

		"kiosk.title":    "Sıra numarası alın",
		"kiosk.lead":     "Lütfen işleminizi seçin.",
		"kiosk.wait":     "Bekleme süresi yaklaşık %d dk. · %d kişi bekliyor",
		"kiosk.nowait":   "Bekleme yok",
		"ticket.title":   "Sıra numaranız",
		"ticket.service": "İşlem",
		"ticket.time":    "Alınma saati",
		"ticket.ahead":   "Önünüzde: %d kişi",
		"ticket.est":     "Tahmini bekleme süresi: yaklaşık %d dk.",
		"ticket.p90":     "Genellikle %d dk.'dan uzun sürmez",
		"ticket.qr":      "QR kodunu tarayın: bekleme sürenizi telefonunuzdan takip edebilir, bekleme salonundan ayrılabilirsiniz.",
		"ticket.print":   "Yazdır",
		"ticket.done":    "Tamam",
		"ticket.again":   "Yeni numara al",

		"portal.title":      "Vatandaş hizmet merkezlerinde bekleme süreleri",
		"portal.lead":       "Randevusuz gelenler için güncel bekleme süreleri. Sıra numaranızdaki QR kodu ile kendi bekleme sürenizi görebilirsiniz.",
		"portal.waiting":    "%d kişi bekliyor",
		"portal.open":       "Açık",
		"portal.closed":     "Kapalı",
		"portal.stale":      "Güncel veri yok",
		"portal.stale.long": "%d dakikadır bu merkezle bağlantı yok. Bilgiler güncel değil.",
		"portal.updated":    "Son güncelleme: %s",
		"portal.never":      "henüz veri yok",
		"portal.empty":      "Henüz bağlı merkez yok.",
		"portal.wait":       "Tahmini bekleme süresi",
		"portal.hours":      "Bugün %s",
		"portal.hours.none": "Bugün kapalı",
		"portal.stale.note": "Bu merkezle bağlantı kesildi. Bilgiler güncel değil.",
		"portal.link":       "Tüm bekleme süreleri",

		"status.title":          "Sıra numaranız",
		"status.position":       "Sıranız",
		"status.est":            "Tahmini bekleme",
		"status.p90":            "genellikle en fazla %d dk.",
		"status.called":         "Sıra sizde! Lütfen şu bankoya gelin: %s",
		"status.done":           "İşleminiz tamamlandı. Ziyaretiniz için teşekkür ederiz.",
		"status.noshow":         "Çağrıldınız, ancak orada değildiniz. Lütfen danışma masasına başvurun.",
		"status.expired":        "Bu sıra numarasının süresi doldu.",
		"status.next":           "Sıradaki sizsiniz.",
		"status.notfound":       "Bu sıra numarası bizde kayıtlı değil (artık). Lütfen numaranızdaki bağlantıyı kontrol edin.",
		"status.live":           "Otomatik olarak güncellenir.",
		"status.soon":           "Birazdan",
		"status.state.waiting":  "Bekliyor",
		"status.state.called":   "Çağrıldı",
		"status.state.done":     "Tamamlandı",
		"status.state.no_show":  "Gelmedi",
		"status.state.expired":  "Süresi doldu",
		"status.stale.note":     "Merkezle bağlantı kesildi: sıranız ve bekleme süreniz güncel değil. Lütfen yerindeki çağrı ekranını da takip edin.",
		"status.notfound.title": "Sıra numarası bulunamadı",
	}
	// Modern Standard Arabic. Numbers stay in Western digits: they must
	// match the call display and the printed ticket ("A042").
	texts["ar"] = map[string]string{
		"city":          "مدينة كولونيا",
		"lang.name":     "العربية",
		"lang.menu":     "اللغة",
		"skip":          "الانتقال إلى المحتوى",
		"minutes":       "%d دقيقة",
		"minutes.long":  "%d دقيقة",
		"error.title":   "تعذّر إتمام العملية",
		"back":          "رجوع",
		"notfound":      "الصفحة غير موجودة",
		"notfound.text": "هذا العنوان غير موجود.",
		"unit.min":      "دقيقة",
		"refresh":       "تحديث",

		"kiosk.title":    "احصل على رقم انتظار",
		"kiosk.lead":     "يُرجى اختيار الخدمة المطلوبة.",
		"kiosk.wait":     "مدة الانتظار نحو %d دقيقة · عدد المنتظرين: %d",
		"kiosk.nowait":   "لا يوجد انتظار",
		"ticket.title":   "رقم انتظارك",
		"ticket.service": "الخدمة",
		"ticket.time":    "وقت الإصدار",
		"ticket.ahead":   "عدد المنتظرين قبلك: %d",
		"ticket.est":     "مدة الانتظار المتوقعة: نحو %d دقيقة",
		"ticket.p90":     "عادةً لا تزيد عن %d دقيقة",
		"ticket.qr":      "امسح رمز QR لتتابع مدة انتظارك على هاتفك، ويمكنك مغادرة قاعة الانتظار.",
		"ticket.print":   "طباعة",
		"ticket.done":    "تم",
		"ticket.again":   "رقم آخر",

		"portal.title":      "مدد الانتظار في مراكز خدمة المواطنين",
		"portal.lead":       "مدد الانتظار الحالية دون موعد مسبق. يعرض لك رمز QR على رقم انتظارك مدة انتظارك الشخصية.",
		"portal.waiting":    "عدد المنتظرين: %d",
		"portal.open":       "مفتوح",
		"portal.closed":     "مغلق",
		"portal.stale":      "لا توجد بيانات حديثة",
		"portal.stale.long": "لا يوجد اتصال بهذا المركز منذ %d دقيقة. البيانات غير محدّثة.",
		"portal.updated":    "آخر تحديث: %s",
		"portal.never":      "لا توجد بيانات بعد",
		"portal.empty":      "لا توجد مراكز متصلة بعد.",
		"portal.wait":       "مدة الانتظار المتوقعة",
		"portal.hours":      "اليوم %s",
		"portal.hours.none": "مغلق اليوم",
		"portal.stale.note": "انقطع الاتصال بهذا المركز. البيانات غير محدّثة.",
		"portal.link":       "جميع مدد الانتظار",

		"status.title":          "رقم انتظارك",
		"status.position":       "ترتيبك",
		"status.est":            "مدة الانتظار المتوقعة",
		"status.p90":            "عادةً لا تزيد عن %d دقيقة",
		"status.called":         "حان دورك! يُرجى التوجّه إلى %s.",
		"status.done":           "تمّت معاملتك. شكرًا لزيارتك.",
		"status.noshow":         "نودي على رقمك ولم تكن حاضرًا. يُرجى مراجعة مكتب الاستعلامات.",
		"status.expired":        "انتهت صلاحية رقم الانتظار هذا.",
		"status.next":           "أنت التالي.",
		"status.notfound":       "رقم الانتظار هذا غير معروف لدينا (أو لم يعد صالحًا). يُرجى التحقق من الرابط المطبوع على رقمك.",
		"status.live":           "تُحدَّث الصفحة تلقائيًا.",
		"status.soon":           "قريبًا جدًا",
		"status.state.waiting":  "في الانتظار",
		"status.state.called":   "نودي على رقمك",
		"status.state.done":     "مكتمل",
		"status.state.no_show":  "لم يحضر",
		"status.state.expired":  "منتهي الصلاحية",
		"status.stale.note":     "انقطع الاتصال بالمركز: الترتيب ومدة الانتظار غير محدّثين. يُرجى متابعة شاشة النداء في المكان أيضًا.",
		"status.notfound.title": "رقم الانتظار غير موجود",
	}
}
