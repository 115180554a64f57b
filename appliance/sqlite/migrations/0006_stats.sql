-- The wait a citizen was shown when the ticket was issued (the kiosk's
-- walk-in estimate and its P90, in minutes), for the statistics' estimate
-- accuracy. Written with the ticket from the TicketIssued event; NULL for
-- tickets issued before this was recorded.
ALTER TABLE tickets ADD COLUMN estimate_minutes INTEGER;
ALTER TABLE tickets ADD COLUMN estimate_p90 INTEGER;
