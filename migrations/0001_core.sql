-- Pulse core: bookkeeping of projections, their versions and checkpoints, and the function that
-- creates one version of a projection's read model. Forward-only; applied once, in order.

CREATE SCHEMA IF NOT EXISTS pulse;

-- TimescaleDB is used when the server has it (set pulse.timescale = 'off' before migrating to refuse it).
DO $$
BEGIN
  IF coalesce(current_setting('pulse.timescale', true), 'auto') <> 'off'
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
  END IF;
END $$;

CREATE TABLE pulse.settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);
INSERT INTO pulse.settings (key, value)
VALUES ('timescale', to_jsonb(EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')));

-- Every version of every projection's read model. Exactly one version per projection is served.
CREATE TABLE pulse.projection_versions (
  projection text NOT NULL,
  version int NOT NULL,
  status text NOT NULL CHECK (status IN ('building', 'live', 'retired', 'cancelled', 'failed', 'dropped')),
  allowed_lateness_ms bigint NOT NULL,
  -- Partial rebuilds keep the buckets before this event time from the version they replace.
  cutoff timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  served_since timestamptz,
  retired_at timestamptz,
  drop_after timestamptz,
  PRIMARY KEY (projection, version)
);
CREATE UNIQUE INDEX projection_served ON pulse.projection_versions (projection) WHERE status = 'live';

-- Which pipeline (a set of partition consumers) feeds which projection version, from which stream
-- sequence on. The live pipeline feeds served (and retired, until dropped) versions; a rebuild's own
-- pipeline feeds the version it builds until the swap, when the live pipeline takes it over.
CREATE TABLE pulse.feeds (
  pipeline text NOT NULL,
  projection text NOT NULL,
  version int NOT NULL,
  partition int NOT NULL,
  after_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (pipeline, projection, version, partition),
  FOREIGN KEY (projection, version) REFERENCES pulse.projection_versions ON DELETE CASCADE
);

-- Checkpoint per pipeline and partition: the last stream sequence whose effects are committed, and the
-- partition's clock (highest event time seen), which the watermark trails. Written in the same
-- transaction as the read-model changes: this is what makes redelivery harmless.
CREATE TABLE pulse.checkpoints (
  pipeline text NOT NULL,
  partition int NOT NULL,
  stream_seq bigint NOT NULL DEFAULT 0,
  max_event_ms bigint,
  events bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  dead_letters bigint NOT NULL DEFAULT 0,
  last_error text,
  -- Fencing: the worker that owns the partition (advisory lock) bumps the epoch when it takes over and
  -- commits only while the epoch is still its own, so a worker that lost ownership cannot commit.
  owner text,
  epoch bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, partition)
);

-- Identities (source + id, hashed to 128 bits) of events already projected by the live pipeline: the
-- de-duplication that outlives JetStream's window. The event's day lets housekeeping forget identities
-- older than the horizon (rows arrive roughly in day order, so a BRIN index is enough for that).
CREATE TABLE pulse.seen_events (
  id uuid PRIMARY KEY,
  event_day date NOT NULL
);
CREATE INDEX seen_events_day ON pulse.seen_events USING brin (event_day);

-- Monotonic revision of the read models: each committed batch takes one, change notifications carry it.
CREATE SEQUENCE pulse.revision;

-- Creates the tables of one version of one projection in its own schema, rm_<projection>_v<version>.
-- With TimescaleDB, facts are hypertables and the hourly and daily roll-ups are continuous aggregates;
-- without it they are tables the projector maintains. Queries read the same names and columns on both.
CREATE FUNCTION pulse.create_read_model(p_projection text, p_version int) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  s text := format('rm_%s_v%s', p_projection, p_version);
  ts boolean := (SELECT value::text::boolean FROM pulse.settings WHERE key = 'timescale');
  grain text;
BEGIN
  EXECUTE format('CREATE SCHEMA %I', s);
  FOREACH grain IN ARRAY ARRAY['1s', '1m'] || CASE WHEN ts THEN ARRAY[]::text[] ELSE ARRAY['1h', '1d'] END LOOP
    -- dim_key is the canonical JSON of the dimensions ('{}' for totals); queries read it as jsonb.
    EXECUTE format($t$
      CREATE TABLE %I.%I (
        bucket timestamptz NOT NULL,
        metric text NOT NULL,
        dim_key text NOT NULL,
        value bigint NOT NULL,
        events bigint NOT NULL,
        late_events bigint NOT NULL,
        late_value bigint NOT NULL,
        PRIMARY KEY (metric, bucket, dim_key)
      )$t$, s, 'facts_' || grain);
  END LOOP;
  IF ts THEN
    EXECUTE format($t$SELECT create_hypertable(%L, 'bucket', chunk_time_interval => interval '1 hour')$t$, s || '.facts_1s');
    EXECUTE format($t$SELECT create_hypertable(%L, 'bucket', chunk_time_interval => interval '1 day')$t$, s || '.facts_1m');
    EXECUTE format($t$
      CREATE MATERIALIZED VIEW %I.facts_1h WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT time_bucket(interval '1 hour', bucket) AS bucket, metric, dim_key,
             sum(value)::bigint AS value, sum(events)::bigint AS events,
             sum(late_events)::bigint AS late_events, sum(late_value)::bigint AS late_value
      FROM %I.facts_1m GROUP BY 1, metric, dim_key WITH NO DATA$t$, s, s);
    EXECUTE format($t$
      CREATE MATERIALIZED VIEW %I.facts_1d WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT time_bucket(interval '1 day', bucket) AS bucket, metric, dim_key,
             sum(value)::bigint AS value, sum(events)::bigint AS events,
             sum(late_events)::bigint AS late_events, sum(late_value)::bigint AS late_value
      FROM %I.facts_1h GROUP BY 1, metric, dim_key WITH NO DATA$t$, s, s);
    EXECUTE format($t$SELECT add_retention_policy(%L, interval '2 days')$t$, s || '.facts_1s');
    EXECUTE format($t$SELECT add_retention_policy(%L, interval '90 days')$t$, s || '.facts_1m');
    EXECUTE format($t$SELECT add_continuous_aggregate_policy(%L, start_offset => interval '3 days', end_offset => interval '1 hour', schedule_interval => interval '5 minutes')$t$, s || '.facts_1h');
    EXECUTE format($t$SELECT add_continuous_aggregate_policy(%L, start_offset => interval '30 days', end_offset => interval '1 day', schedule_interval => interval '1 hour')$t$, s || '.facts_1d');
    EXECUTE format($t$ALTER TABLE %I.facts_1m SET (timescaledb.compress, timescaledb.compress_segmentby = 'metric', timescaledb.compress_orderby = 'bucket, dim_key')$t$, s);
    EXECUTE format($t$SELECT add_compression_policy(%L, interval '7 days')$t$, s || '.facts_1m');
  END IF;

  -- One row per revision of a bucket: late events that arrived at one watermark second in one partition.
  EXECUTE format($t$
    CREATE TABLE %I.corrections (
      metric text NOT NULL,
      grain text NOT NULL CHECK (grain IN ('1s', '1m')),
      bucket timestamptz NOT NULL,
      partition int NOT NULL,
      watermark timestamptz NOT NULL,
      late_events bigint NOT NULL,
      delta bigint NOT NULL,
      first_recorded_at timestamptz NOT NULL DEFAULT now(),
      last_recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (metric, grain, bucket, partition, watermark)
    )$t$, s);
  EXECUTE format('CREATE INDEX ON %I.corrections (first_recorded_at)', s);

  IF p_projection = 'inventory' THEN
    EXECUTE format($t$
      CREATE TABLE %I.stock_levels (
        sku text NOT NULL, warehouse text NOT NULL,
        reported_at timestamptz NOT NULL, available bigint NOT NULL, reorder_point bigint,
        PRIMARY KEY (sku, warehouse)
      )$t$, s);
    EXECUTE format($t$
      CREATE TABLE %I.stock_movements (
        sku text NOT NULL, warehouse text NOT NULL, at timestamptz NOT NULL, delta bigint NOT NULL,
        PRIMARY KEY (sku, warehouse, at)
      )$t$, s);
  END IF;
  IF p_projection = 'traffic' THEN
    EXECUTE format($t$
      CREATE TABLE %I.sessions (
        session_id text PRIMARY KEY,
        first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL,
        channel text, country text
      )$t$, s);
    EXECUTE format('CREATE INDEX ON %I.sessions (last_seen)', s);
  END IF;
  RETURN s;
END
$fn$;
