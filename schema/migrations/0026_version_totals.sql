-- content-versions at a fixed cost (issue 15, speed). Measured on the bench's 10M events
-- (schema/README.md, "Query cost"): the query merged the audience states of every
-- (content, version, partner) row to get each version's totals (uniq states of events,
-- opens, viewers and sessions: four merges per partner row, the bulk of its time), and it
-- read device_version_use (0024) whole, because that table's key starts with the content
-- and the query asks for the claimed devices, not for a content. Merging one set of states
-- per version is not enough: reading and finishing the states of 1,200 versions alone
-- took longer than the query's whole budget there, with uniq and with the smaller
-- uniqCombined(12) and uniqHLL12 states too, so the totals become finished rows, as
-- doc_viewer_rows (0013) are for document viewers.
--
-- content_version_totals keeps the audience states once per content and version (fed by the
-- same events as content_version_use, 0018), with updated_at as in 0012. content_version_rows
-- holds the finished numbers of each version; whoever writes events recomputes, after the
-- write, the rows of the versions it touched (schema.RefreshRows), so a refresh costs the
-- versions written to since the last one, not the tenant's whole catalogue.
--
-- device_versions holds device_version_use's rows keyed by device first, so the claimed
-- devices' rows are a read by key. It is filled before device_version_use goes, and
-- bi_content_versions reads it from here on, so no reader sees a partial table. Every state
-- is idempotent (min, max, uniq of ids), so events written while this runs count once.

-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_version_totals
(
    tenant       LowCardinality(String),
    content_id   String,
    version      String,
    content_type SimpleAggregateFunction(max, String),
    first_at     SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at      SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events       AggregateFunction(uniq, UUID),
    opens        AggregateFunction(uniq, UUID),
    viewers      AggregateFunction(uniq, String),
    sessions     AggregateFunction(uniq, String),
    updated_at   SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_id, version)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.content_version_totals_mv TO {db}.content_version_totals AS
SELECT
    tenant,
    toString(content_id) AS content_id,
    toString(content_version) AS version,
    max(toString(content_type)) AS content_type,
    min(event_time) AS first_at,
    max(event_time) AS last_at,
    uniqState(event_id) AS events,
    uniqStateIf(event_id, type = 'view') AS opens,
    uniqState(if(partner_user_id != '', concat('u:', partner_user_id), concat('v:', visitor_id))) AS viewers,
    uniqState(session_id) AS sessions,
    max(now('UTC')) AS updated_at
FROM {db}.events
WHERE is_bot = 0 AND content_version != '' AND content_id != ''
GROUP BY tenant, content_id, version;

BACKFILL {db}.content_version_totals;

-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_version_rows
(
    tenant       LowCardinality(String),
    content_id   String,
    version      String,
    content_type String,
    first_at     DateTime64(3, 'UTC'),
    last_at      DateTime64(3, 'UTC'),
    events       UInt64,
    opens        UInt64,
    viewers      UInt64,
    sessions     UInt64,
    refreshed    DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(refreshed)
ORDER BY (tenant, content_id, version)
SETTINGS min_age_to_force_merge_seconds = 3600;

-- The finished rows of every version with a content_version_totals row written at or after
-- since. In the cluster flavor run it with distributed_product_mode = 'local': both tables
-- are sharded by tenant and content, so each shard computes its own versions.
CREATE OR REPLACE VIEW {db}.content_version_rows_since AS
SELECT
    tenant, content_id, version,
    max(content_type) AS content_type, min(first_at) AS first_at, max(last_at) AS last_at,
    uniqMerge(events) AS events, uniqMerge(opens) AS opens,
    uniqMerge(viewers) AS viewers, uniqMerge(sessions) AS sessions,
    now64(6, 'UTC') AS refreshed
FROM {db}.content_version_totals AS t
WHERE (t.tenant, t.content_id, t.version) IN
(
    SELECT k.tenant, k.content_id, k.version FROM {db}.content_version_totals AS k
    WHERE k.updated_at >= {since:DateTime64(3, 'UTC')}
)
GROUP BY tenant, content_id, version;

INSERT INTO {db}.content_version_rows SELECT * FROM {db}.content_version_rows_since(since = '1970-01-01 00:00:00')
SETTINGS distributed_product_mode = 'local';

-- device_version_use (0024) with the device first in the key.
-- shard by: cityHash64(tenant, viewer)
CREATE TABLE IF NOT EXISTS {db}.device_versions
(
    tenant     LowCardinality(String),
    viewer     String,
    content_id String,
    version    String,
    first_at   SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, viewer, content_id, version)
SETTINGS non_replicated_deduplication_window = {dedup_window}, min_age_to_force_merge_seconds = 3600;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.device_versions_mv TO {db}.device_versions AS
SELECT
    tenant,
    concat('v:', visitor_id) AS viewer,
    toString(content_id) AS content_id,
    toString(content_version) AS version,
    min(event_time) AS first_at,
    max(event_time) AS last_at
FROM {db}.events
WHERE is_bot = 0 AND content_version != '' AND content_id != '' AND partner_user_id = '' AND visitor_id != ''
GROUP BY tenant, viewer, content_id, version;

BACKFILL {db}.device_versions;

-- bi_content_versions (0024) over device_versions: the same columns and values.
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
            FROM {db}.device_versions
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

DROP VIEW IF EXISTS {db}.device_version_use_mv;

DROP TABLE IF EXISTS {db}.device_version_use;
