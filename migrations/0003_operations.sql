-- Long-running admin operations (rebuilds and replays): the command, its audit record and its progress.
CREATE TABLE pulse.operations (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('rebuild', 'replay')),
  projection text,
  status text NOT NULL CHECK (status IN ('requested', 'running', 'cancelling', 'completed', 'cancelled', 'failed')),
  requested_by text NOT NULL,
  reason text NOT NULL CHECK (length(trim(reason)) > 0),
  options jsonb NOT NULL,
  -- For rebuilds: the version being built and where the scan of the event store began.
  version int,
  start_seq bigint,
  progress jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
-- One rebuild per projection at a time: a second request is refused, not queued behind the first.
CREATE UNIQUE INDEX operations_one_rebuild ON pulse.operations (projection) WHERE kind = 'rebuild' AND status IN ('requested', 'running', 'cancelling');
CREATE INDEX operations_recent ON pulse.operations (created_at DESC);

-- Dead letters re-submitted after a fix, so the console can show what has been dealt with.
CREATE TABLE pulse.dead_letter_resubmissions (
  dead_letter_seq bigint NOT NULL,
  resubmitted_at timestamptz NOT NULL DEFAULT now(),
  resubmitted_by text NOT NULL,
  accepted int NOT NULL,
  rejected int NOT NULL,
  PRIMARY KEY (dead_letter_seq, resubmitted_at)
);
