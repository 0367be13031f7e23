-- Rollups for the contact questions (issue 15): the contact log of one person or partner
-- (contact-timeline), each partner's and person's activity against its own baseline
-- (partner-activity), and which known people a content or campaign reached
-- (content-reach). Same pattern as 0005: create the target and its view, then backfill;
-- every state is idempotent, so an event delivered twice counts once.
--
-- A *touch* is one viewer's use of one content on one UTC day: every non-bot event of that
-- viewer on that content that day (events without a content are a touch of content '').
-- Viewers are as in every rollup: 'u:<partner_user_id>' when the event carries a verified
-- partner token, else 'v:<visitor_id>'. Anonymous touches are kept under the device's
-- viewer and counted for a person at query time (identity stitching, schema/README.md,
-- "Identity stitching"), so no raw event is ever rewritten.

-- Per device and person: when the device first and last carried the person's verified
-- token, and under which partner; partner_user_id '' is the device's anonymous use. The
-- saved queries derive from it which anonymous touches count for whom. One row per
-- (device, person) once merged: about as many rows as devices.
-- shard by: cityHash64(tenant, visitor_id)
CREATE TABLE IF NOT EXISTS {db}.visitor_people
(
    tenant          LowCardinality(String),
    visitor_id      String,
    partner_user_id String,
    partner_id      SimpleAggregateFunction(max, String),
    first_at        SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at         SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, visitor_id, partner_user_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.visitor_people_mv TO {db}.visitor_people AS
SELECT
    tenant,
    visitor_id,
    partner_user_id,
    max(partner_id) AS partner_id,
    min(event_time) AS first_at,
    max(event_time) AS last_at
FROM {db}.events
WHERE is_bot = 0 AND visitor_id != ''
GROUP BY tenant, visitor_id, partner_user_id;

BACKFILL {db}.visitor_people;

-- Per viewer, day and content: one touch, with what contact-timeline shows of it. Ordered
-- by viewer and day, so one person's touches are one key range and a page of the newest
-- is a few days of it. Dwell is kept as doc_page_dwell keeps it (0008: each page event
-- packed as 37 bits of its id's hash and dwell_ms), seconds watched as video_viewer_coverage
-- keeps them (a bitmap: rewatches count once). devices and campaigns are sets.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.touches
(
    tenant       LowCardinality(String),
    viewer       String,
    day          Date,
    content_id   String,
    partner_id   SimpleAggregateFunction(max, String),
    content_type SimpleAggregateFunction(max, String),
    title        SimpleAggregateFunction(max, String),
    first_at     SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at      SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    sessions     AggregateFunction(uniq, String),
    pages        AggregateFunction(groupBitmap, UInt32),
    page_count   SimpleAggregateFunction(max, UInt32),
    dwell        AggregateFunction(groupUniqArray, UInt64),
    seconds      AggregateFunction(groupBitmap, UInt32),
    duration     SimpleAggregateFunction(max, Float32),
    completed    SimpleAggregateFunction(max, UInt8),
    clicks       AggregateFunction(uniq, UUID),
    via_link     SimpleAggregateFunction(max, UInt8),
    devices      SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    campaigns    SimpleAggregateFunction(groupUniqArrayArray, Array(String))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, day, content_id)
SETTINGS non_replicated_deduplication_window = {dedup_window}, index_granularity = 1024, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.touches_mv TO {db}.touches AS
SELECT
    tenant,
    viewer,
    toDate(event_time) AS day,
    toString(content_id) AS content_id,
    max(pid) AS partner_id,
    max(ctype) AS content_type,
    max(content_title) AS title,
    min(event_time) AS first_at,
    max(event_time) AS last_at,
    uniqState(session_id) AS sessions,
    groupBitmapStateIf(page, type = 'page' AND page > 0) AS pages,
    max(page_count) AS page_count,
    groupUniqArrayStateIf(bitOr(bitAnd(cityHash64(event_id), 0xFFFFFFFFF8000000), toUInt64(least(dwell_ms, 134217727))), type = 'page') AS dwell,
    groupBitmapStateArray(arrayFlatten(arrayMap(
        i -> if(type = 'video' AND isFinite(watched_start[i]) AND isFinite(watched_end[i]),
                range(toUInt32(least(greatest(watched_start[i], 0), 43200)),
                      toUInt32(least(greatest(ceil(watched_end[i]), 0), 43200))),
                []),
        range(1, least(length(watched_start), length(watched_end)) + 1)))) AS seconds,
    max(if(type = 'video' AND isFinite(duration), least(greatest(duration, 0), 43200), 0)) AS duration,
    max((type = 'video' AND action = 'ended') OR type = 'complete') AS completed,
    uniqStateIf(event_id, type = 'click') AS clicks,
    max(type = 'click' AND action = 'tracked') AS via_link,
    groupUniqArrayArray([toString(device)]) AS devices,
    groupUniqArrayArrayIf([toString(campaign_id)], campaign_id != '') AS campaigns
FROM
(
    SELECT
        *,
        toString(partner_id) AS pid,
        toString(content_type) AS ctype,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer
    FROM {db}.events
    WHERE is_bot = 0
)
GROUP BY tenant, viewer, day, content_id;

BACKFILL {db}.touches;

-- Per viewer and day: that the viewer was active, its last event, and the contents it
-- touched (their count is the day's touches). partner-activity reads only the key for the
-- baseline (which days each person was active) and the states of the period's days.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.viewer_days
(
    tenant     LowCardinality(String),
    viewer     String,
    day        Date,
    partner_id SimpleAggregateFunction(max, String),
    last_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    contents   AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, day)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.viewer_days_mv TO {db}.viewer_days AS
SELECT
    tenant,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    toDate(event_time) AS day,
    max(toString(partner_id)) AS partner_id,
    max(event_time) AS last_at,
    uniqState(toString(content_id)) AS contents
FROM {db}.events
WHERE is_bot = 0
GROUP BY tenant, viewer, day;

BACKFILL {db}.viewer_days;

-- Per content, viewer and 256-day block (as content_partner_blocks, 0009): bit d of days is
-- set when the viewer touched the content on day 256 * block + d. content-reach reads the
-- rows of the contents it is asked about: people ('u:' viewers, one key range per
-- content) and the anonymous devices that count for someone.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_viewer_blocks
(
    tenant     LowCardinality(String),
    content_id String,
    viewer     String,
    block      UInt16,
    partner_id SimpleAggregateFunction(max, String),
    days       SimpleAggregateFunction(groupBitOr, UInt256)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer, block)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.content_viewer_blocks_mv TO {db}.content_viewer_blocks AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    intDiv(toUInt16(toDate(event_time)), 256) AS block,
    max(toString(partner_id)) AS partner_id,
    groupBitOr(bitShiftLeft(toUInt256(1), toUInt16(toUInt16(toDate(event_time)) % 256))) AS days
FROM {db}.events
WHERE is_bot = 0 AND content_id != ''
GROUP BY tenant, content_id, viewer, block;

BACKFILL {db}.content_viewer_blocks;
