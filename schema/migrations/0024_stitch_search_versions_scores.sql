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

-- The BI views of these answers (0019), stitched as bi_touches is (0017, 0022): through
-- bi_stitch_claims (look-back 30 days), an anonymous device's search, version use or
-- attempt on a claimed day counts for that person and partner. The columns of 0019 keep
-- their names and places; person and stitched are added at the end.

-- One row per search (a re-delivered event once); viewer is who searched (the device for a
-- stitched search), person the partner user it counts for ('' when anonymous), partner_id
-- that person's partner on the device when stitched. opened: a clicked result, or an open
-- by the viewer, or (stitched) by the person, at most 30 minutes after it (as search-gaps
-- judges it).
CREATE OR REPLACE VIEW {db}.bi_searches AS
SELECT
    s.tenant AS tenant, s.day AS day, s.partner_id AS partner_id, s.viewer AS viewer,
    s.query_key AS query, s.event_id AS event_id, s.at AS at, s.results AS results,
    s.clicked AS clicked, s.flags AS flags,
    s.clicked != ''
    OR (od.viewer != '' AND (od.last_open >= s.at OR od.next_open <= s.at + toIntervalMinute(30)))
    OR (op.viewer != '' AND (op.last_open >= s.at OR op.next_open <= s.at + toIntervalMinute(30))) AS opened,
    s.person AS person, s.stitched AS stitched
FROM
(
    SELECT
        r.tenant AS tenant, r.day AS day, r.query_key AS query_key, r.viewer AS viewer, r.event_id AS event_id,
        r.at AS at, r.results AS results, r.clicked AS clicked, r.flags AS flags,
        multiIf(startsWith(r.viewer, 'u:'), substring(r.viewer, 3), c.person != '' AND r.day >= c.first_day, c.person, '') AS person,
        if(startsWith(r.viewer, 'u:') OR person = '', r.partner_id, c.partner_id) AS partner_id,
        NOT startsWith(r.viewer, 'u:') AND person != '' AS stitched
    FROM
    (
        SELECT tenant, day, partner_id, query_key, viewer, event_id,
               min(at) AS at, max(results) AS results, max(clicked) AS clicked, max(flags) AS flags
        FROM {db}.searches
        GROUP BY tenant, day, partner_id, query_key, viewer, event_id
    ) AS r
    ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = r.tenant AND c.viewer = r.viewer AND r.day <= c.last_day
) AS s
LEFT JOIN
(
    SELECT tenant, viewer, bucket, max(last_open) AS last_open, min(next_open) AS next_open
    FROM {db}.open_marks
    GROUP BY tenant, viewer, bucket
) AS od ON od.tenant = s.tenant AND od.viewer = s.viewer AND od.bucket = intDiv(toUInt32(toUnixTimestamp(s.at)), 1800)
LEFT JOIN
(
    SELECT tenant, viewer, bucket, max(last_open) AS last_open, min(next_open) AS next_open
    FROM {db}.open_marks
    GROUP BY tenant, viewer, bucket
) AS op ON op.tenant = s.tenant AND op.viewer = concat('u:', s.person) AND op.bucket = intDiv(toUInt32(toUnixTimestamp(s.at)), 1800);

-- One row per content, version and partner ('' = anonymous use), as in 0019, where a
-- stitched device's use of a version (all of it on days of one claim, as content-versions
-- counts it) is also use by its person's partner: first_at, last_at and current include
-- it; events, opens, viewers and sessions stay the partner's own (a stitched device's
-- events are in the '' row), and stitched is 1 when the row has stitched use.
CREATE OR REPLACE VIEW {db}.bi_content_versions AS
SELECT
    u.tenant AS tenant, u.content_id AS content_id, u.version AS version, u.partner_id AS partner_id,
    u.content_type AS content_type, u.first_at AS first_at, u.last_at AS last_at,
    u.events AS events, u.opens AS opens, u.viewers AS viewers, u.sessions AS sessions,
    u.version = l.latest_version AS latest,
    u.partner_id != '' AND u.version = argMax(u.version, (u.last_at, u.version)) OVER (PARTITION BY u.tenant, u.content_id, u.partner_id) AS current,
    u.stitched AS stitched
FROM
(
    SELECT tenant, content_id, version, partner_id,
           max(content_type) AS content_type, min(first_at) AS first_at, max(last_at) AS last_at,
           sum(events) AS events, sum(opens) AS opens, sum(viewers) AS viewers, sum(sessions) AS sessions,
           max(stitched) AS stitched
    FROM
    (
        SELECT tenant, content_id, version, partner_id,
               max(content_type) AS content_type, min(first_at) AS first_at, max(last_at) AS last_at,
               uniqMerge(events) AS events, uniqMerge(opens) AS opens, uniqMerge(viewers) AS viewers, uniqMerge(sessions) AS sessions,
               toUInt8(0) AS stitched
        FROM {db}.content_version_use
        GROUP BY tenant, content_id, version, partner_id
        UNION ALL
        SELECT d.tenant, d.content_id, d.version, c.partner_id, '', d.first_at, d.last_at,
               toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt8(1)
        FROM
        (
            SELECT tenant, content_id, version, viewer, min(first_at) AS first_at, max(last_at) AS last_at, toDate(last_at) AS last_day
            FROM {db}.device_version_use
            GROUP BY tenant, content_id, version, viewer
        ) AS d
        ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = d.tenant AND c.viewer = d.viewer AND d.last_day <= c.last_day
        WHERE c.person != '' AND toDate(d.first_at) >= c.first_day
    )
    GROUP BY tenant, content_id, version, partner_id
) AS u
INNER JOIN
(
    SELECT tenant, content_id, argMax(version, (first_at, version)) AS latest_version
    FROM (SELECT tenant, content_id, version, min(first_at) AS first_at FROM {db}.content_version_use GROUP BY tenant, content_id, version)
    GROUP BY tenant, content_id
) AS l ON l.tenant = u.tenant AND l.content_id = u.content_id;

-- One row per course and person with a scored attempt, as in 0019, the attempts of a
-- stitched device on its claimed days included (each by its own day, as training-scores
-- counts them); stitched_attempts: how many of them came from such a device.
CREATE OR REPLACE VIEW {db}.bi_training_scores AS
SELECT
    a.tenant AS tenant, a.content_id AS course_id, a.person AS partner_user_id,
    if(pu.partner_id != '', pu.partner_id, a.seen_partner) AS partner_id,
    length(a.attempts) AS attempts,
    arrayMap(x -> assumeNotNull(x.3), arrayFilter(x -> x.3 IS NOT NULL, a.attempts)) AS scores,
    if(empty(scores), NULL, round(arrayAvg(scores), 2)) AS avg_score,
    if(empty(scores), NULL, arrayMin(scores)) AS min_score,
    arrayLast(x -> x.4 IS NOT NULL, a.attempts).4 AS latest_passed,
    a.stitched_attempts AS stitched_attempts
FROM
(
    SELECT tenant, content_id, person, max(seen) AS seen_partner, arraySort(groupUniqArrayArray(tried)) AS attempts,
           sum(stitched) AS stitched_attempts
    FROM
    (
        SELECT tenant, content_id, person, max(partner_id) AS seen, groupUniqArrayMerge(attempts) AS tried, toUInt64(0) AS stitched
        FROM {db}.course_attempts
        GROUP BY tenant, content_id, person
        UNION ALL
        SELECT tenant, content_id, person, max(partner_id), groupUniqArray(attempt), uniqExact(attempt.2)
        FROM
        (
            SELECT d.tenant AS tenant, d.content_id AS content_id, d.attempt AS attempt, d.day AS day,
                   c.person AS person, c.partner_id AS partner_id, c.first_day AS first_day
            FROM
            (
                SELECT tenant, content_id, viewer, attempt, toDate(attempt.1) AS day
                FROM
                (
                    SELECT tenant, content_id, viewer, groupUniqArrayMerge(attempts) AS tried
                    FROM {db}.device_attempts
                    GROUP BY tenant, content_id, viewer
                )
                ARRAY JOIN tried AS attempt
            ) AS d
            ASOF LEFT JOIN {db}.bi_stitch_claims AS c ON c.tenant = d.tenant AND c.viewer = d.viewer AND d.day <= c.last_day
        )
        WHERE person != '' AND day >= first_day
        GROUP BY tenant, content_id, person
    )
    GROUP BY tenant, content_id, person
) AS a
LEFT JOIN (SELECT tenant, partner_user_id, partner_id FROM {db}.partner_users FINAL) AS pu
    ON pu.tenant = a.tenant AND pu.partner_user_id = a.person;
