-- Identity stitching for search-gaps, content-versions and training-scores (issue 15
-- item 2), and searches in contact-timeline. As in 0021, no raw event and no existing
-- rollup row is rewritten: anonymous use is kept under the device ('v:<visitor_id>'), and
-- the queries decide at query time, through stitch_claims (0021), whom it belongs to.
-- search-gaps needs no new rollup (searches already keeps the device as viewer); the two
-- others kept anonymous use without the device (content_version_use, partner '') or not
-- at all (course_attempts, people only), so the device's use gets a rollup of its own,
-- written only for events without a verified token, read only for the stitched devices.
-- Same pattern as 0005: create each target and its view, then backfill; every state is
-- idempotent, so an event delivered twice counts once.

-- Per content, version and anonymous device (viewer 'v:<visitor_id>', events without a
-- verified token that carried a content_version): when the device first and last used
-- that version. content-versions counts a device's use of a version for the partner of
-- the person it is stitched to when all of it lies on days of one claim.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.device_version_use
(
    tenant     LowCardinality(String),
    content_id String,
    version    String,
    viewer     String,
    first_at   SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, version, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.device_version_use_mv TO {db}.device_version_use AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    toString(content_version) AS version,
    concat('v:', visitor_id) AS viewer,
    min(event_time) AS first_at,
    max(event_time) AS last_at
FROM {db}.events
WHERE is_bot = 0 AND content_version != '' AND content_id != '' AND partner_user_id = '' AND visitor_id != ''
GROUP BY tenant, content_id, version, viewer;

BACKFILL {db}.device_version_use;

-- Scored attempts of anonymous devices, as course_attempts (0018) keeps them for people:
-- per course and device, the set of (time, event_id, score, passed) of its complete events
-- without a verified token that carry a score or a passed. training-scores counts each
-- attempt for the person the device is stitched to on the attempt's day.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.device_attempts
(
    tenant     LowCardinality(String),
    content_id String,
    viewer     String,
    attempts   AggregateFunction(groupUniqArray, Tuple(DateTime64(3, 'UTC'), UUID, Nullable(Float32), Nullable(UInt8)))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.device_attempts_mv TO {db}.device_attempts AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    concat('v:', visitor_id) AS viewer,
    groupUniqArrayState((event_time, event_id, score, passed)) AS attempts
FROM {db}.events
WHERE is_bot = 0 AND type = 'complete' AND partner_user_id = '' AND visitor_id != '' AND content_id != ''
  AND (score IS NOT NULL OR passed IS NOT NULL)
GROUP BY tenant, content_id, viewer;

BACKFILL {db}.device_attempts;

-- One row per search event, under its viewer (as in every rollup: 'u:<partner_user_id>'
-- with a verified token, else 'v:<visitor_id>'), day and content (the content the search
-- event named, '' mostly): the stored text (as stored, not lowercased), results shown, the
-- clicked result. Ordered like touches (0016, 0022), so contact-timeline reads the
-- searches of the same viewers and days as the touches of its page: a few key ranges.
-- searches (0018) is ordered by day and partner for search-gaps, where one person's
-- searches are spread over the whole period.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.viewer_searches
(
    tenant     LowCardinality(String),
    viewer     String,
    day        Date,
    content_id String,
    event_id   UUID,
    at         SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    query      SimpleAggregateFunction(max, String),
    results    SimpleAggregateFunction(max, UInt32),
    clicked    SimpleAggregateFunction(max, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, day, content_id, event_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.viewer_searches_mv TO {db}.viewer_searches AS
SELECT
    tenant,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    toDate(event_time) AS day,
    toString(content_id) AS content_id,
    event_id,
    min(event_time) AS at,
    max(search_query) AS query,
    max(search_results) AS results,
    max(search_clicked) AS clicked
FROM {db}.events
WHERE is_bot = 0 AND type = 'search'
GROUP BY tenant, viewer, day, content_id, event_id;

BACKFILL {db}.viewer_searches;
