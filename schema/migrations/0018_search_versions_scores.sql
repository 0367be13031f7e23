-- Wire v1 additions (issue 15): search events, content versions, test scores. The raw
-- table grows by columns added at its end (the event contract, beacon/event, lists them in
-- this order); rows written before keep the defaults: no version, no search, no score.
--   content_version  any event: the version of the content it is about ('' = not sent)
--   search_query     search: the text as stored (words that look like an e-mail address or
--                    a token replaced by [email] / [token], cut to 256 bytes; WIRE.md)
--   search_results   search: how many results were shown (0: the search found nothing)
--   search_clicked   search: the content_id of the result opened from it ('' = none)
--   search_flags     search: 1 = the text was cut, 2 = a word was redacted
--   score, passed    complete: a test's score 0..100 and pass (NULL when not sent)
ALTER TABLE {db}.events
    ADD COLUMN IF NOT EXISTS content_version LowCardinality(String),
    ADD COLUMN IF NOT EXISTS search_query    String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS search_results  UInt32,
    ADD COLUMN IF NOT EXISTS search_clicked  String,
    ADD COLUMN IF NOT EXISTS search_flags    UInt8,
    ADD COLUMN IF NOT EXISTS score           Nullable(Float32),
    ADD COLUMN IF NOT EXISTS passed          Nullable(UInt8);

-- Rollups for the three answers on them (search-gaps, content-versions, training-scores).
-- Same pattern as 0005 and 0016: create the target and its view, then backfill; every state
-- is idempotent, so an event delivered twice counts once. Viewers are as in every rollup:
-- 'u:<partner_user_id>' with a verified partner token, else 'v:<visitor_id>'.

-- One row per search event (its event_id in the key: a re-delivered search merges into its
-- row), ordered by day, so a period of a tenant is one key range. query_key is the stored
-- text lowercased: "Pricing" and "pricing" are one query.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.searches
(
    tenant     LowCardinality(String),
    day        Date,
    partner_id String,
    query_key  String,
    viewer     String,
    event_id   UUID,
    at         SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    results    SimpleAggregateFunction(max, UInt32),
    clicked    SimpleAggregateFunction(max, String),
    flags      SimpleAggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, day, partner_id, query_key, viewer, event_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.searches_mv TO {db}.searches AS
SELECT
    tenant,
    toDate(event_time) AS day,
    toString(partner_id) AS partner_id,
    lowerUTF8(search_query) AS query_key,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    event_id,
    min(event_time) AS at,
    max(search_results) AS results,
    max(search_clicked) AS clicked,
    max(search_flags) AS flags
FROM {db}.events
WHERE is_bot = 0 AND type = 'search'
GROUP BY tenant, day, partner_id, query_key, viewer, event_id;

BACKFILL {db}.searches;

-- The opens (view events of a content) of each viewer, per 30-minute bucket of the clock
-- (bucket = Unix seconds / 1800): the latest open in the bucket, and the earliest open in
-- the next one. A search at t in bucket b was followed by an open within 30 minutes
-- exactly when last_open(b) >= t or next_open(b) <= t + 30 min, since [t, t + 30 min]
-- lies in buckets b and b + 1: search-gaps reads one row per search. Each open writes two
-- rows (its bucket's last_open, the previous bucket's next_open); the other state of each
-- holds the neutral value (1970 for a max, 2299 for a min).
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.open_marks
(
    tenant    LowCardinality(String),
    viewer    String,
    bucket    UInt32,
    last_open SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    next_open SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, bucket)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.open_marks_mv TO {db}.open_marks AS
SELECT
    tenant,
    viewer,
    toUInt32(b - side) AS bucket,
    max(if(side = 0, event_time, toDateTime64(0, 3, 'UTC'))) AS last_open,
    min(if(side = 1, event_time, toDateTime64('2299-12-31 00:00:00', 3, 'UTC'))) AS next_open
FROM
(
    SELECT
        tenant,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
        intDiv(toUInt32(toUnixTimestamp(event_time)), 1800) AS b,
        event_time
    FROM {db}.events
    WHERE is_bot = 0 AND type = 'view' AND content_id != ''
)
ARRAY JOIN [0, 1] AS side
GROUP BY tenant, viewer, bucket;

BACKFILL {db}.open_marks;

-- Use of each content version per partner (partner '' = anonymous use): when it was first
-- and last seen, events, opens (view events), people or devices, sessions. The latest
-- version of a content is the one first seen last; a partner's current version is the one
-- it used last. A few rows per content and partner: content-versions reads a tenant whole.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_version_use
(
    tenant       LowCardinality(String),
    content_id   String,
    version      String,
    partner_id   String,
    content_type SimpleAggregateFunction(max, String),
    first_at     SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at      SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events       AggregateFunction(uniq, UUID),
    opens        AggregateFunction(uniq, UUID),
    viewers      AggregateFunction(uniq, String),
    sessions     AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, version, partner_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.content_version_use_mv TO {db}.content_version_use AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    toString(content_version) AS version,
    toString(partner_id) AS partner_id,
    max(toString(content_type)) AS content_type,
    min(event_time) AS first_at,
    max(event_time) AS last_at,
    uniqState(event_id) AS events,
    uniqStateIf(event_id, type = 'view') AS opens,
    uniqState(if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id))) AS viewers,
    uniqState(session_id) AS sessions
FROM {db}.events
WHERE is_bot = 0 AND content_version != '' AND content_id != ''
GROUP BY tenant, content_id, version, partner_id;

BACKFILL {db}.content_version_use;

-- Scored attempts at a course or test: per course and person (events with a verified
-- partner token), the set of attempts (time, event_id, score, passed) of its complete
-- events that carry a score or a passed; a re-delivered event is the same element.
-- shard by: cityHash64(tenant, person)
CREATE TABLE IF NOT EXISTS {db}.course_attempts
(
    tenant     LowCardinality(String),
    content_id String,
    person     String,
    partner_id SimpleAggregateFunction(max, String),
    attempts   AggregateFunction(groupUniqArray, Tuple(DateTime64(3, 'UTC'), UUID, Nullable(Float32), Nullable(UInt8)))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, person)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.course_attempts_mv TO {db}.course_attempts AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    partner_user_id AS person,
    max(toString(partner_id)) AS partner_id,
    groupUniqArrayState((event_time, event_id, score, passed)) AS attempts
FROM {db}.events
WHERE is_bot = 0 AND type = 'complete' AND partner_user_id != '' AND content_id != '' AND (score IS NOT NULL OR passed IS NOT NULL)
GROUP BY tenant, content_id, person;

BACKFILL {db}.course_attempts;
