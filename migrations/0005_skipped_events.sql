-- What the live pipeline decided not to count, by position in the event store: duplicates (by identity)
-- and dead-lettered events. A rebuild follows these decisions instead of validating and de-duplicating
-- every stored event again, which is what lets it re-project the store several times faster than live
-- traffic arrives. Only these exceptions are stored (a few in a hundred events), never the accepted ones.
CREATE TABLE pulse.skipped_events (
  stream_seq bigint NOT NULL,
  -- Position of the event in the message's batch; -1 when the whole message was unreadable.
  batch_index int NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (stream_seq, batch_index)
);
