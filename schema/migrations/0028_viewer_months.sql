-- partner-activity without every person's whole history of days (issue 15, speed). The
-- query read, for every person of the tenant and every claimed device, every day row of
-- viewer_day_contents up to the window's end (the whole history: ever active days and
-- the last touch), and the baseline's days again to flag the cooling partners: on the
-- bench's 10M events millions of rows per call (schema/README.md, "Query cost").
--
-- viewer_months keeps one row per viewer and calendar month: the partner (as in
-- viewer_day_contents) and, for each day of the month with an event, the time of its last
-- event (a maxMap of day of month -> time: an event delivered twice changes nothing). A
-- person's days and last touch up to any day are then a few rows per person, whatever the
-- history's length, at day precision, so stitching claims still apply day by day.

-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.viewer_months
(
    tenant     LowCardinality(String),
    viewer     String,
    month      Date,
    partner_id SimpleAggregateFunction(max, String),
    lasts      SimpleAggregateFunction(maxMap, Tuple(Array(UInt8), Array(DateTime64(3, 'UTC'))))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, month)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.viewer_months_mv TO {db}.viewer_months AS
SELECT
    tenant,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    toStartOfMonth(event_time) AS month,
    max(toString(partner_id)) AS partner_id,
    maxMap([toUInt8(toDayOfMonth(event_time))], [event_time]) AS lasts
FROM {db}.events
WHERE is_bot = 0
GROUP BY tenant, viewer, month;

BACKFILL {db}.viewer_months;
