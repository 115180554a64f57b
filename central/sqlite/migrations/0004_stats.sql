-- Statistics read a site's log one day at a time by HLC: this index makes
-- that a range scan of the day's entries instead of the whole log.
CREATE INDEX site_log_hlc ON site_log (site, hlc);
