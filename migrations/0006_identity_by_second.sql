-- Event identities are keyed by the second of the event's time from here on, no longer its minute: a
-- batch's identities then land on a few hundred neighbouring index pages rather than one page each
-- among the current minute's (ADR 0004). Identities already stored keep their minute keys, so events
-- dated before the switch are still keyed by minute, and every copy of an event meets its first copy
-- on the same key. A store without identities switches for every event; one with identities at the
-- next UTC midnight, which leaves a rolling upgrade the rest of the day to replace older projectors.
INSERT INTO pulse.settings (key, value)
SELECT 'identity_seconds_from_ms',
       to_jsonb(CASE WHEN EXISTS (SELECT 1 FROM pulse.seen_events)
                     THEN (extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') * 1000)::bigint
                     ELSE 0 END);
