-- Rollups for the console (issue 14): events and people per tenant and day for the
-- overview, and each video viewer's watched ranges for its own heatmap.

-- Per tenant and day: the events accepted and the people active, for the console's
-- overview (saved query tenant-activity: accepted events and active people in a period
-- against the period before). No other rollup counts events: the others count contents,
-- viewers or days, and counting the raw events of a 90-day period reads the event_time of
-- every event in it. Same pattern as 0016: create the target and its view, then backfill.
--
-- events and bot_events count the rows the ingest wrote (non-bot and bot): a batch the
-- ingest retries is dropped by its deduplication token here as in events, so each row of
-- events is counted once. people holds the partner_user_ids of the day's non-bot events
-- that carried a verified partner token (exact: a few thousand strings a day at most).
-- shard by: cityHash64(tenant, day)
CREATE TABLE IF NOT EXISTS {db}.tenant_days
(
    tenant     LowCardinality(String),
    day        Date,
    events     SimpleAggregateFunction(sum, UInt64),
    bot_events SimpleAggregateFunction(sum, UInt64),
    people     AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, day)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.tenant_days_mv TO {db}.tenant_days AS
SELECT
    tenant,
    toDate(event_time) AS day,
    toUInt64(countIf(is_bot = 0)) AS events,
    toUInt64(countIf(is_bot != 0)) AS bot_events,
    uniqExactStateIf(partner_user_id, is_bot = 0 AND partner_user_id != '') AS people
FROM {db}.events
GROUP BY tenant, day;

BACKFILL {db}.tenant_days;

-- Per video and viewer: every watched range the viewer's non-bot video events reported,
-- for one viewer's own heatmap (saved query viewer-seconds): the seconds that person
-- watched and how many times, so replays show. video_viewer_coverage keeps the seconds as
-- a bitmap, where a replay is lost. Each range is kept with a hash of its event's id and
-- its place in the event, as a set: an event delivered twice adds nothing. Ranges are
-- clipped to 12 hours and ranges with NaN or infinite ends are left out, as in 0002.
-- Viewers as in every rollup: 'u:<partner_user_id>', else 'v:<visitor_id>'. One key
-- range per (video, viewer): a few rows.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.video_viewer_ranges
(
    tenant     LowCardinality(String),
    content_id String,
    viewer     String,
    partner_id SimpleAggregateFunction(max, String),
    ranges     AggregateFunction(groupUniqArrayArray, Array(Tuple(UInt64, Float32, Float32)))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.video_viewer_ranges_mv TO {db}.video_viewer_ranges AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    max(toString(partner_id)) AS partner_id,
    groupUniqArrayArrayState(arrayFilter(r -> r.3 > r.2, arrayMap(
        i -> (cityHash64(event_id, i),
              least(greatest(watched_start[i], toFloat32(0)), toFloat32(43200)),
              least(greatest(watched_end[i], toFloat32(0)), toFloat32(43200))),
        arrayFilter(i -> isFinite(watched_start[i]) AND isFinite(watched_end[i]),
                    range(1, least(length(watched_start), length(watched_end)) + 1))))) AS ranges
FROM {db}.events
WHERE is_bot = 0 AND type = 'video' AND notEmpty(watched_start)
GROUP BY tenant, content_id, viewer;

BACKFILL {db}.video_viewer_ranges;

-- video-viewers reads video_viewer_coverage: the merge policy of 0011.
ALTER TABLE {db}.video_viewer_coverage MODIFY SETTING min_age_to_force_merge_seconds = 3600;
