-- Read-model keys compare as bytes (COLLATE "C"). Metrics, dimension keys, session ids, SKUs and
-- warehouses are identifiers, not text to sort for people, and every batch's upserts probe their
-- primary keys: under a database's linguistic collation (even C.UTF-8 before PostgreSQL 17) each
-- comparison copies both strings and calls strcoll. In the benchmark at 5M events/min PostgreSQL
-- spent 3 points of a core less (about 6%) with these keys and timestamps built in float8 rather than
-- numeric (write-changes.ts), in two quick runs each way. UTF-8 byte order is code-point order, so
-- under C.UTF-8 nothing sorts differently.
--
-- Only versions created from here on (by a rebuild) get the new layout: changing the collation of a
-- live version's key columns would rebuild its indexes under a lock that stops the projector.

CREATE OR REPLACE FUNCTION pulse.create_read_model(p_projection text, p_version int) RETURNS text
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
        metric text COLLATE "C" NOT NULL,
        dim_key text COLLATE "C" NOT NULL,
        partition int NOT NULL DEFAULT 0,
        value bigint NOT NULL,
        events bigint NOT NULL,
        late_events bigint NOT NULL,
        late_value bigint NOT NULL,
        PRIMARY KEY (metric, bucket, dim_key, partition)
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
    EXECUTE format($t$ALTER TABLE %I.facts_1m SET (timescaledb.compress, timescaledb.compress_segmentby = 'metric', timescaledb.compress_orderby = 'bucket, dim_key, partition')$t$, s);
    EXECUTE format($t$SELECT add_compression_policy(%L, interval '7 days')$t$, s || '.facts_1m');
  END IF;

  -- One row per revision of a bucket: late events that arrived at one watermark second in one partition.
  EXECUTE format($t$
    CREATE TABLE %I.corrections (
      metric text COLLATE "C" NOT NULL,
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
    -- Per partition: the latest report of a SKU in a warehouse is the latest of the partitions' rows.
    EXECUTE format($t$
      CREATE TABLE %I.stock_levels (
        sku text COLLATE "C" NOT NULL, warehouse text COLLATE "C" NOT NULL, partition int NOT NULL DEFAULT 0,
        reported_at timestamptz NOT NULL, available bigint NOT NULL, reorder_point bigint,
        PRIMARY KEY (sku, warehouse, partition)
      )$t$, s);
    EXECUTE format($t$
      CREATE TABLE %I.stock_movements (
        sku text COLLATE "C" NOT NULL, warehouse text COLLATE "C" NOT NULL, at timestamptz NOT NULL, partition int NOT NULL DEFAULT 0, delta bigint NOT NULL,
        PRIMARY KEY (sku, warehouse, at, partition)
      )$t$, s);
  END IF;
  IF p_projection = 'traffic' THEN
    EXECUTE format($t$
      CREATE TABLE %I.sessions (
        session_id text COLLATE "C" NOT NULL, partition int NOT NULL DEFAULT 0,
        first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL,
        channel text, country text,
        PRIMARY KEY (session_id, partition)
      )$t$, s);
    EXECUTE format('CREATE INDEX ON %I.sessions (last_seen)', s);
  END IF;
  RETURN s;
END
$fn$;
