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
