-- training-scores without set states (issue 15, speed). The query merged, for every
-- (course, person) and (course, device), a groupUniqArray state of attempt tuples
-- (time, event id, score, passed): a hash set of tuples per row, built and merged again
-- at each call, most of its time on the bench's 10M events (schema/README.md, "Query
-- cost"). attempt_rows keeps one plain row per scored attempt, under its viewer as in
-- every rollup ('u:<person>' with a verified token, else 'v:<device>'), keyed by the
-- event: an event delivered twice is the same key, and readers use FINAL. The per-attempt
-- numbers (count, sum and least score, latest passed) are then plain aggregates.
-- course_attempts and device_attempts stay: bi_training_scores reads them.

-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.attempt_rows
(
    tenant     LowCardinality(String),
    content_id String,
    viewer     String,
    event_id   UUID,
    at         DateTime64(3, 'UTC'),
    partner_id String,
    score      Nullable(Float32),
    passed     Nullable(UInt8)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, content_id, viewer, event_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.attempt_rows_mv TO {db}.attempt_rows AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    event_id,
    event_time AS at,
    toString(partner_id) AS partner_id,
    score,
    passed
FROM {db}.events
WHERE is_bot = 0 AND type = 'complete' AND content_id != '' AND (score IS NOT NULL OR passed IS NOT NULL)
  AND (partner_user_id != '' OR visitor_id != '');

BACKFILL {db}.attempt_rows;
