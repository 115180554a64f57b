-- An online booking for a record (appliance/appointment Record.For): the
-- school-entry exam's child (its pseudonym, as exam_cohort keeps it), so
-- that the site ties the slot to the child and booking again moves it.
-- NULL for an ordinary booking.
ALTER TABLE appointments ADD COLUMN for_ref TEXT;
CREATE INDEX appointments_for ON appointments (for_ref, start) WHERE for_ref IS NOT NULL AND status = 'confirmed';
