package main

import (
	"context"

	"github.com/chromedp/chromedp"
)

// takeTicket presses a service's button on the kiosk and, when the kiosk
// asks first, confirms: these tests run at the wall clock's hour, and
// outside the site's opening hours (or with a wait past closing) the
// kiosk asks before it issues (issue 14). Then the ticket's page, or the
// kiosk's refusal, follows.
func takeTicket(service string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Click(chromedp.CSS(`button[data-service="`+service+`"]`))(ctx, t); err != nil {
			return err
		}
		// The tap posts and the page navigates: wait across the navigation
		// (a query of the old page may lose its context mid-call) for the
		// ticket, the kiosk's question or an error page, all under
		// /kiosk/tickets.
		if _, err := untilNavigated(`location.pathname.startsWith("/kiosk/tickets") && document.readyState === "complete" && !!document.querySelector("#ticket-number, #confirm-yes, [role=alert]")`)(ctx, t); err != nil {
			return err
		}
		asked, err := chromedp.Evaluate[bool](`document.getElementById("confirm-yes") !== null`)(ctx, t)
		if err != nil || !asked {
			return err
		}
		_, err = chromedp.Click(chromedp.ID("confirm-yes"))(ctx, t)
		return err
	})
}
