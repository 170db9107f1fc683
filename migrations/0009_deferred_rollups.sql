-- On plain PostgreSQL a busy live partition writes its hourly and daily roll-ups about once a second
-- instead of in every batch (they were about half the rows a batch upserted). What it has committed
-- minutes for but not yet rolled up lives in the worker's memory; the hours it covers are listed here,
-- in the same transaction as the minutes, so that after a crash or a failed commit the next owner can
-- recompute exactly those hours (and their days) from the minutes, which are always exact.
-- Hours are counted from the epoch (UTC), as the domain buckets them.
ALTER TABLE pulse.checkpoints ADD COLUMN rollup_hours int[] NOT NULL DEFAULT '{}';
