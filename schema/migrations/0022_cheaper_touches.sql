-- touches (0016) with plain values instead of aggregate states, written one row per event:
-- the cheapest rollup to insert that keeps what contact-timeline and bi_touches show.
--
-- Why: 0016 made the insert of the bench's synthetic events 2 to 4 times slower than at
-- 0015, and touches_mv was most of it (schema/README.md, "Ingest cost of the contact
-- rollups"): nearly every event is its own (viewer, day, content) in an insert block, so
-- the view's GROUP BY saved almost nothing, while each row carried five aggregate states
-- (two uniq, two groupBitmap, one groupUniqArray) whose creation and serialization cost
-- about as much empty as full. Here every per-event set is a SimpleAggregateFunction
-- array (merged by groupUniqArrayArray, so a re-delivered event adds nothing), and the
-- view does not group: the table's merges combine a touch's rows, and the queries
-- aggregate the rows of the parts not yet merged as before.
--   sessions  cityHash64 of each session_id (distinct count = sessions, exact)
--   pages     the page numbers of page events (> 0) (count = pages seen)
--   dwell     as before: each page event packed as 37 bits of its id's hash and dwell_ms
--   seconds   watched ranges [start, end) in whole seconds, clipped to 12 hours and
--             without NaN or infinite ends as before; the seconds watched are the length
--             of their union, computed at query time (what the bitmap counted)
--   clicks    the event_ids of click events (count = clicks)
-- The table is dropped and refilled from the raw events (BACKFILL): rows of a touch
-- written twice while the migration runs are the same set elements, so nothing counts
-- twice. Unlike the other replacements (created and filled before the old one is
-- dropped), touches keeps its name, which six saved queries and bi_touches read: until
-- the backfill ends the contact questions see part of the touches. Migrate in a quiet
-- hour. The backfill does not group, so it needs far less memory than 0016's.

DROP VIEW IF EXISTS {db}.touches_mv;

DROP TABLE IF EXISTS {db}.touches;

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
    sessions     SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64)),
    pages        SimpleAggregateFunction(groupUniqArrayArray, Array(UInt32)),
    page_count   SimpleAggregateFunction(max, UInt32),
    dwell        SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64)),
    seconds      SimpleAggregateFunction(groupUniqArrayArray, Array(Tuple(UInt32, UInt32))),
    duration     SimpleAggregateFunction(max, Float32),
    completed    SimpleAggregateFunction(max, UInt8),
    clicks       SimpleAggregateFunction(groupUniqArrayArray, Array(UUID)),
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
    if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
    toDate(event_time) AS day,
    toString(content_id) AS content_id,
    toString(partner_id) AS partner_id,
    toString(content_type) AS content_type,
    content_title AS title,
    event_time AS first_at,
    event_time AS last_at,
    [cityHash64(session_id)] AS sessions,
    if(type = 'page' AND page > 0, [page], []) AS pages,
    page_count,
    if(type = 'page', [bitOr(bitAnd(cityHash64(event_id), 0xFFFFFFFFF8000000), toUInt64(least(dwell_ms, 134217727)))], []) AS dwell,
    if(type = 'video',
       arrayMap(i -> (toUInt32(least(greatest(watched_start[i], 0), 43200)), toUInt32(least(greatest(ceil(watched_end[i]), 0), 43200))),
                arrayFilter(i -> isFinite(watched_start[i]) AND isFinite(watched_end[i]),
                            range(1, least(length(watched_start), length(watched_end)) + 1))),
       []) AS seconds,
    toFloat32(if(type = 'video' AND isFinite(duration), least(greatest(duration, 0), 43200), 0)) AS duration,
    toUInt8((type = 'video' AND action = 'ended') OR type = 'complete') AS completed,
    if(type = 'click', [event_id], []) AS clicks,
    toUInt8(type = 'click' AND action = 'tracked') AS via_link,
    [toString(device)] AS devices,
    if(campaign_id != '', [toString(campaign_id)], []) AS campaigns
FROM {db}.events
WHERE is_bot = 0;

BACKFILL {db}.touches;

-- bi_touches (0017) over the new columns: the same columns and values.
CREATE OR REPLACE VIEW {db}.bi_touches AS
SELECT
    t.tenant AS tenant, t.day AS day, t.viewer AS viewer,
    multiIf(startsWith(t.viewer, 'u:'), substring(t.viewer, 3), c.person != '' AND t.day >= c.first_day, c.person, '') AS person,
    if(startsWith(t.viewer, 'u:') OR person = '', t.partner_id, c.partner_id) AS partner_id,
    NOT startsWith(t.viewer, 'u:') AND person != '' AS stitched,
    t.content_id AS content_id, t.content_type AS content_type, t.title AS title,
    t.first_at AS first_at, t.last_at AS last_at, t.sessions AS sessions,
    t.pages_seen AS pages_seen, t.page_count AS page_count, t.dwell_ms AS dwell_ms,
    t.seconds_watched AS seconds_watched, t.duration AS duration, t.completed AS completed,
    t.clicks AS clicks, t.devices AS devices, t.campaigns AS campaigns, t.via_link AS via_link
FROM
(
    SELECT
        tenant, viewer, day, content_id,
        max(partner_id) AS partner_id,
        max(content_type) AS content_type,
        max(title) AS title,
        min(first_at) AS first_at,
        max(last_at) AS last_at,
        length(groupUniqArrayArray(sessions)) AS sessions,
        length(groupUniqArrayArray(pages)) AS pages_seen,
        max(page_count) AS page_count,
        arraySum(arrayMap(x -> bitAnd(x, 134217727), groupUniqArrayArray(dwell))) AS dwell_ms,
        -- the length of the union of the watched ranges (sorted by start: each adds what
        -- lies beyond the end covered so far)
        toUInt64(arrayFold((acc, r) -> (acc.1 + greatest(toInt64(r.2) - greatest(toInt64(r.1), acc.2), 0), greatest(acc.2, toInt64(r.2))),
                           arraySort(groupUniqArrayArray(seconds)), (toInt64(0), toInt64(0))).1) AS seconds_watched,
        max(duration) AS duration,
        max(completed) AS completed,
        length(groupUniqArrayArray(clicks)) AS clicks,
        arraySort(groupUniqArrayArray(devices)) AS devices,
        arraySort(groupUniqArrayArray(campaigns)) AS campaigns,
        max(via_link) AS via_link
    FROM {db}.touches
    GROUP BY tenant, viewer, day, content_id
) AS t
ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = t.tenant AND c.viewer = t.viewer AND t.day <= c.last_day;
