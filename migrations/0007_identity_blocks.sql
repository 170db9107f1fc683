-- Event identities are kept in blocks from here on: one row per identity bucket and second of event
-- time that a batch touches, holding the identities it counted there packed (12 bytes each), instead of
-- a row and an index entry per event (ADR 0004). A batch locks its buckets' rows in order, and their
-- count of writes tells a projector whether another one wrote a bucket since it last did.
CREATE TABLE pulse.identity_blocks (
  bucket int NOT NULL,
  second bigint NOT NULL,
  hashes bytea NOT NULL
);
-- Identities are hashes: compressing them only costs CPU.
ALTER TABLE pulse.identity_blocks ALTER COLUMN hashes SET STORAGE EXTERNAL;
CREATE INDEX identity_blocks_key ON pulse.identity_blocks (bucket, second);
-- Housekeeping deletes by second; rows arrive nearly in event-time order.
CREATE INDEX identity_blocks_second ON pulse.identity_blocks USING brin (second);

CREATE TABLE pulse.identity_buckets (
  bucket int PRIMARY KEY,
  writes bigint NOT NULL DEFAULT 0
);
-- IDENTITY_BUCKETS in libs/contracts/src/subjects.ts.
INSERT INTO pulse.identity_buckets (bucket) SELECT generate_series(0, 255);

-- pulse.seen_events keeps answering for events dated before the switch, so a copy always meets its
-- first copy where that was recorded. A store without identities switches for every event; one with
-- identities at the next UTC midnight, which leaves a rolling upgrade the rest of the day to replace
-- older projectors.
INSERT INTO pulse.settings (key, value)
SELECT 'identity_blocks_from_ms',
       to_jsonb(CASE WHEN EXISTS (SELECT 1 FROM pulse.seen_events)
                     THEN (extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') * 1000)::bigint
                     ELSE 0 END);
