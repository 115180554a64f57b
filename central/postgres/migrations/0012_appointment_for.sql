-- central/sqlite's 0022: an online booking for a record (appliance/appointment
-- Record.For), the school-entry exam's child (its pseudonym); NULL for an
-- ordinary booking.
ALTER TABLE appointments ADD COLUMN for_ref TEXT;
CREATE INDEX appointments_for ON appointments (for_ref, start) WHERE for_ref IS NOT NULL AND status = 'confirmed';
