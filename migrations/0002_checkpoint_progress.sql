-- Progress figures for projection status: messages applied (to turn pending messages into an event
-- estimate) and when the last applied message was stored (how far behind the stream head a partition is).
ALTER TABLE pulse.checkpoints
  ADD COLUMN messages bigint NOT NULL DEFAULT 0,
  ADD COLUMN stored_ms bigint;
