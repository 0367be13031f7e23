-- Rollups: materialized views fed on every insert into {db}.events, each into an
-- AggregatingMergeTree whose aggregate states are idempotent (max, min, uniq, bitmaps,
-- sets of (event_id, value) pairs), so the same event delivered twice never counts twice,
-- whether the retry is dropped by insert_deduplication_token or arrives in another batch.
--
-- A viewer is a person: the partner user when the event is attributed, else the anonymous
-- device ('u:<partner_user_id>' or 'v:<visitor_id>'), so one person on two devices counts
-- once. Bot-flagged events never reach a rollup. Every target table keeps its own dedup
-- window: with deduplicate_blocks_in_dependent_materialized_views=1 a retried insert is
-- dropped in the views' targets too, even when the first attempt only half-succeeded.

-- Per document, per viewer, per page (page 0 stands for "opened", from view events):
-- answers who opened it, when, up to which page and how long on each page. dwell_ms
-- arrives as increments, so it is kept as a set of (event_id, dwell_ms) and summed at
-- query time: a duplicated event adds nothing.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.doc_viewer_pages
(
    tenant          LowCardinality(String),
    content_id      LowCardinality(String),
    viewer          String,
    page            UInt32,
    partner_id      SimpleAggregateFunction(max, String),
    partner_user_id SimpleAggregateFunction(max, String),
    first_seen      SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    page_count      SimpleAggregateFunction(max, UInt32),
    sessions        AggregateFunction(uniq, String),
    dwell           AggregateFunction(groupUniqArray, Tuple(UUID, UInt32))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer, page)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.doc_viewer_pages_mv TO {db}.doc_viewer_pages AS
SELECT
    tenant,
    content_id,
    viewer,
    page_no AS page,
    max(pid) AS partner_id,
    max(puid) AS partner_user_id,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    max(page_count) AS page_count,
    uniqState(session_id) AS sessions,
    groupUniqArrayState(tuple(event_id, dwell_ms)) AS dwell
FROM
(
    SELECT
        tenant, content_id, event_id, event_time, session_id, page_count, dwell_ms,
        partner_id AS pid,
        partner_user_id AS puid,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
        if(type = 'page', page, 0) AS page_no
    FROM {db}.events
    WHERE is_bot = 0 AND content_type = 'document' AND type IN ('view', 'page')
)
GROUP BY tenant, content_id, viewer, page_no;

-- Per video, per second: the viewers who played that second (from the watched ranges,
-- which may overlap on rewatch or seek back). Feeds the retention curve. uniqCombined(12)
-- is exact for the first few hundred viewers of a second and within about 2% beyond, at
-- most a few KiB per second of video.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.video_second_viewers
(
    tenant     LowCardinality(String),
    content_id LowCardinality(String),
    second     UInt32,
    viewers    AggregateFunction(uniqCombined(12), String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, second)
SETTINGS non_replicated_deduplication_window = {dedup_window};

-- A range [s, e) covers the seconds floor(s) .. ceil(e)-1; ranges are clipped to 12 hours,
-- ranges with NaN or infinite ends are ignored and arrays of unequal length are read
-- pairwise up to the shorter, so no input can make the view fail an insert.
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.video_second_viewers_mv TO {db}.video_second_viewers AS
SELECT
    tenant,
    content_id,
    second,
    uniqCombinedState(12)(viewer) AS viewers
FROM
(
    SELECT
        tenant,
        content_id,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer,
        arrayJoin(arrayDistinct(arrayFlatten(arrayMap(
            i -> if(isFinite(watched_start[i]) AND isFinite(watched_end[i]),
                    range(toUInt32(least(greatest(watched_start[i], 0), 43200)),
                          toUInt32(least(greatest(ceil(watched_end[i]), 0), 43200))),
                    []),
            range(1, least(length(watched_start), length(watched_end)) + 1))))) AS second
    FROM {db}.events
    WHERE is_bot = 0 AND type = 'video' AND notEmpty(watched_start)
)
GROUP BY tenant, content_id, second;

-- Per video, per viewer: which seconds were watched (a bitmap, so rewatches and two
-- devices merge), the furthest point reached, whether it was loaded, played, ended.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.video_viewer_coverage
(
    tenant          LowCardinality(String),
    content_id      LowCardinality(String),
    viewer          String,
    partner_id      SimpleAggregateFunction(max, String),
    partner_user_id SimpleAggregateFunction(max, String),
    first_seen      SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    duration        SimpleAggregateFunction(max, Float32),
    furthest        SimpleAggregateFunction(max, Float32),
    loaded          SimpleAggregateFunction(max, UInt8),
    played          SimpleAggregateFunction(max, UInt8),
    ended           SimpleAggregateFunction(max, UInt8),
    seconds         AggregateFunction(groupBitmap, UInt32)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.video_viewer_coverage_mv TO {db}.video_viewer_coverage AS
SELECT
    tenant,
    content_id,
    viewer,
    max(pid) AS partner_id,
    max(puid) AS partner_user_id,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    max(if(isFinite(duration), least(greatest(duration, 0), 43200), 0)) AS duration,
    max(least(arrayMax(arrayConcat([toFloat32(0)], arrayFilter(x -> isFinite(x), watched_end))), 43200)) AS furthest,
    max(type = 'view') AS loaded,
    max(type = 'video' AND (action = 'play' OR notEmpty(watched_start))) AS played,
    max((type = 'video' AND action = 'ended') OR type = 'complete') AS ended,
    groupBitmapStateArray(arrayFlatten(arrayMap(
        i -> if(isFinite(watched_start[i]) AND isFinite(watched_end[i]),
                range(toUInt32(least(greatest(watched_start[i], 0), 43200)),
                      toUInt32(least(greatest(ceil(watched_end[i]), 0), 43200))),
                []),
        range(1, least(length(watched_start), length(watched_end)) + 1)))) AS seconds
FROM
(
    SELECT
        tenant, content_id, event_time, type, action, duration, watched_start, watched_end,
        partner_id AS pid,
        partner_user_id AS puid,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer
    FROM {db}.events
    WHERE is_bot = 0 AND content_type = 'video' AND type IN ('view', 'video', 'complete')
)
GROUP BY tenant, content_id, viewer;

-- Per content, partner, campaign of the link, and day: how much the content was used.
-- Feeds content usage (FAQ, tools) and the campaign consumption ranking; ordered by
-- content type and content so those questions read only the contents they ask about.
-- Unattributed use is kept under partner_id ''.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.partner_content_daily
(
    tenant       LowCardinality(String),
    content_type LowCardinality(String),
    content_id   LowCardinality(String),
    partner_id   LowCardinality(String),
    campaign_id  LowCardinality(String),
    day          Date,
    events       AggregateFunction(uniq, UUID),
    sessions     AggregateFunction(uniq, String),
    viewers      AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_type, content_id, partner_id, campaign_id, day)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.partner_content_daily_mv TO {db}.partner_content_daily AS
SELECT
    tenant,
    content_type,
    content_id,
    partner_id,
    campaign_id,
    toDate(event_time) AS day,
    uniqState(event_id) AS events,
    uniqState(session_id) AS sessions,
    uniqState(if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id))) AS viewers
FROM {db}.events
WHERE is_bot = 0 AND content_id != ''
GROUP BY tenant, content_type, content_id, partner_id, campaign_id, day;

-- Which contents each campaign's links led to: a campaign's content is what the contents
-- table says plus this, so the ranking works before the CRM export is imported.
-- shard by: cityHash64(tenant, campaign_id)
CREATE TABLE IF NOT EXISTS {db}.campaign_contents
(
    tenant      LowCardinality(String),
    campaign_id LowCardinality(String),
    content_id  LowCardinality(String),
    first_seen  SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, campaign_id, content_id)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.campaign_contents_mv TO {db}.campaign_contents AS
SELECT tenant, campaign_id, content_id, min(event_time) AS first_seen
FROM {db}.events
WHERE is_bot = 0 AND campaign_id != '' AND content_id != ''
GROUP BY tenant, campaign_id, content_id;

-- Per course, per viewer: started, completed (first completion), by whom.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.course_progress
(
    tenant          LowCardinality(String),
    content_id      LowCardinality(String),
    viewer          String,
    partner_id      SimpleAggregateFunction(max, String),
    partner_user_id SimpleAggregateFunction(max, String),
    first_seen      SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    completed_at    SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC')))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, viewer)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.course_progress_mv TO {db}.course_progress AS
SELECT
    tenant,
    content_id,
    viewer,
    max(pid) AS partner_id,
    max(puid) AS partner_user_id,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    minIf(toNullable(event_time), type = 'complete') AS completed_at
FROM
(
    SELECT
        tenant, content_id, event_time, type,
        partner_id AS pid,
        partner_user_id AS puid,
        if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id)) AS viewer
    FROM {db}.events
    WHERE is_bot = 0 AND content_type = 'course'
)
GROUP BY tenant, content_id, viewer;
