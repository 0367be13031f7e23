-- Searches judged by the writer: search-gaps without a lookup of every search's opens at
-- query time (issue 15, speed).
--
-- search-gaps says of each search whether an open followed it (a clicked result, or an
-- open by the same viewer at most 30 minutes after it, 0018). It looked up open_marks for
-- the (viewer, 30-minute bucket) pair of every search in the period: on the bench's 100M
-- events 293k searches by 38k viewers, whose rows are spread over nearly the whole of
-- open_marks (16M rows), so every call read it and matched each row against a set of 293k
-- pairs: about 3.5 of the query's 3.8 s (by hand, the query with and without that lookup).
--
-- search_rows keeps one finished row per search: its key and values as in searches, and
-- opened, the judgment of 0018 for the search's own viewer (a clicked result, or an open by
-- that viewer at most 30 minutes after it). Whoever writes events recomputes, after the
-- write, the rows of every search whose judgment the write can change, in the same refresh
-- as doc_viewer_rows (schema.RefreshRows): the searches written since the write began
-- (updated_at, added here to searches), and the searches in a (viewer, bucket) of
-- open_marks written since then (updated_at, added here to open_marks: an open can only
-- change the searches of its own bucket, as 0018 explains). Rows are versioned by the time
-- the recompute started, the newest wins (ReplacingMergeTree), readers use FINAL. An open by
-- the person a device is stitched to (identity stitching depends on the query's look-back)
-- is still looked up by search-gaps, for the stitched searches only.
--
-- This migration fills the table from every search once.

ALTER TABLE {db}.searches ADD COLUMN IF NOT EXISTS updated_at SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT toDateTime(0, 'UTC');

ALTER TABLE {db}.searches_mv MODIFY QUERY
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
    max(search_flags) AS flags,
    max(now('UTC')) AS updated_at
FROM {db}.events
WHERE is_bot = 0 AND type = 'search'
GROUP BY tenant, day, partner_id, query_key, viewer, event_id;

ALTER TABLE {db}.open_marks ADD COLUMN IF NOT EXISTS updated_at SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT toDateTime(0, 'UTC');

ALTER TABLE {db}.open_marks_mv MODIFY QUERY
SELECT
    tenant,
    viewer,
    toUInt32(b - side) AS bucket,
    max(if(side = 0, event_time, toDateTime64(0, 3, 'UTC'))) AS last_open,
    min(if(side = 1, event_time, toDateTime64('2299-12-31 00:00:00', 3, 'UTC'))) AS next_open,
    max(now('UTC')) AS updated_at
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

-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.search_rows
(
    tenant     LowCardinality(String),
    day        Date,
    partner_id String,
    query_key  String,
    viewer     String,
    event_id   UUID,
    at         DateTime64(3, 'UTC'),
    results    UInt32,
    clicked    String,
    opened     UInt8,
    version    DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, day, partner_id, query_key, viewer, event_id)
SETTINGS min_age_to_force_merge_seconds = 3600;

-- The finished rows of the searches whose judgment a write at or after since can change:
-- those written since, and those in a (viewer, bucket) with an open written since, read
-- once into a constant (touched). From the beginning (since at or before 1970-01-01) every
-- search is written since, so the opens add nothing and are not read: the first fill, and
-- `beacon refresh -refresh.all`, hold a set as large as the searches, not as open_marks.
-- Every table read has an alias: searches and open_marks are sharded alike (by tenant and
-- viewer), so in the cluster flavor each shard judges its own searches, reading its local
-- tables (distributed_product_mode = 'local', as 0013 and 0026).
CREATE OR REPLACE VIEW {db}.search_rows_since AS
WITH
(
    SELECT groupUniqArray((tenant, viewer, bucket)) FROM
    (
        SELECT a.tenant AS tenant, a.viewer AS viewer, intDiv(toUInt32(toUnixTimestamp(a.at)), 1800) AS bucket
        FROM {db}.searches AS a
        WHERE a.updated_at >= {since:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT b.tenant, b.viewer, b.bucket
        FROM {db}.open_marks AS b
        WHERE b.updated_at >= {since:DateTime64(3, 'UTC')} AND {since:DateTime64(3, 'UTC')} > toDateTime64(0, 3, 'UTC')
    )
) AS touched
SELECT
    s.tenant AS tenant, s.day AS day, s.partner_id AS partner_id, s.query_key AS query_key,
    s.viewer AS viewer, s.event_id AS event_id, s.first_at AS at, s.results AS results, s.clicked AS clicked,
    toUInt8(s.clicked != ''
            OR (o.viewer != '' AND (o.last_open >= s.first_at OR o.next_open <= s.first_at + toIntervalMinute(30)))) AS opened,
    now64(6, 'UTC') AS version
FROM
(
    SELECT r.tenant AS tenant, r.day AS day, r.partner_id AS partner_id, r.query_key AS query_key,
           r.viewer AS viewer, r.event_id AS event_id,
           min(r.at) AS first_at, max(r.results) AS results, max(r.clicked) AS clicked
    FROM {db}.searches AS r
    -- the touched days first, a range of the key each (a bucket lies within one UTC day)
    WHERE (r.tenant, r.day) IN (SELECT t.1, toDate(toDateTime(t.3 * 1800, 'UTC')) FROM (SELECT arrayJoin(touched) AS t))
      AND (r.tenant, r.viewer, intDiv(toUInt32(toUnixTimestamp(r.at)), 1800)) IN (SELECT arrayJoin(touched))
    GROUP BY tenant, day, partner_id, query_key, viewer, event_id
) AS s
LEFT JOIN
(
    SELECT m.tenant AS tenant, m.viewer AS viewer, m.bucket AS bucket,
           max(m.last_open) AS last_open, min(m.next_open) AS next_open
    FROM {db}.open_marks AS m
    WHERE (m.tenant, m.viewer, m.bucket) IN (SELECT arrayJoin(touched))
    GROUP BY tenant, viewer, bucket
) AS o ON o.tenant = s.tenant AND o.viewer = s.viewer AND o.bucket = intDiv(toUInt32(toUnixTimestamp(s.first_at)), 1800);

INSERT INTO {db}.search_rows SELECT * FROM {db}.search_rows_since(since = '1970-01-01 00:00:00')
SETTINGS distributed_product_mode = 'local';
