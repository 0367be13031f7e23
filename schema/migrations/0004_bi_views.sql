-- Views for BI tools (Grafana, Metabase, Superset) that cannot pass query parameters:
-- flat, tenant-scoped rows over the rollups, to filter and chart as the tool likes. Tools
-- that can pass parameters should use the q_<saved query> parameterized views instead,
-- e.g. SELECT * FROM beacon.q_video_retention(tenant = 'acme', content = 'vid-1'),
-- which answer exactly like `beacon query`.

-- Documents: one row per document and viewer.
CREATE VIEW IF NOT EXISTS {db}.bi_document_viewers AS
SELECT
    tenant, content_id, viewer,
    max(partner_id) AS partner_id,
    max(partner_user_id) AS partner_user_id,
    min(first_seen) AS first_opened,
    max(last_seen) AS last_seen,
    max(page) AS max_page,
    max(page_count) AS page_count,
    uniqExactIf(page, page > 0) AS pages_seen,
    uniqMerge(sessions) AS opens,
    arraySum(arrayMap(x -> toUInt64(x.2), groupUniqArrayMerge(dwell))) AS total_dwell_ms
FROM {db}.doc_viewer_pages
GROUP BY tenant, content_id, viewer;

-- Documents: one row per document, viewer and page, with the time spent on it.
CREATE VIEW IF NOT EXISTS {db}.bi_document_page_dwell AS
SELECT
    tenant, content_id, viewer, page,
    max(partner_id) AS partner_id,
    max(partner_user_id) AS partner_user_id,
    arraySum(arrayMap(x -> toUInt64(x.2), groupUniqArrayMerge(dwell))) AS dwell_ms
FROM {db}.doc_viewer_pages
WHERE page > 0
GROUP BY tenant, content_id, viewer, page;

-- Videos: one row per video and second: viewers who played it (the retention curve).
CREATE VIEW IF NOT EXISTS {db}.bi_video_seconds AS
SELECT tenant, content_id, second, uniqCombinedMerge(12)(viewers) AS viewers
FROM {db}.video_second_viewers
GROUP BY tenant, content_id, second;

-- Videos: one row per video and viewer: seconds watched, furthest point, completion.
CREATE VIEW IF NOT EXISTS {db}.bi_video_viewers AS
SELECT
    tenant, content_id, viewer,
    max(partner_id) AS partner_id,
    max(partner_user_id) AS partner_user_id,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    max(loaded) AS loaded,
    max(played) AS played,
    max(ended) AS ended,
    max(duration) AS duration,
    max(furthest) AS furthest,
    groupBitmapMerge(seconds) AS seconds_watched,
    if(duration > 0, round(least(seconds_watched / ceil(duration), 1), 4), NULL) AS completion
FROM {db}.video_viewer_coverage
GROUP BY tenant, content_id, viewer;

-- Training: one row per course assignment, with its completion.
CREATE VIEW IF NOT EXISTS {db}.bi_training_status AS
SELECT
    a.tenant AS tenant, a.course_id AS course_id, a.partner_id AS partner_id, a.partner_user_id AS partner_user_id,
    a.assigned_on AS assigned_on, a.due_on AS due_on,
    c.completed_at AS completed_at,
    c.completed_at IS NOT NULL AS completed
FROM (SELECT * FROM {db}.course_assignments FINAL) AS a
LEFT JOIN
(
    SELECT tenant, content_id, partner_user_id, min(completed_at) AS completed_at
    FROM {db}.course_progress
    WHERE partner_user_id != ''
    GROUP BY tenant, content_id, partner_user_id
) AS c ON c.tenant = a.tenant AND c.content_id = a.course_id AND c.partner_user_id = a.partner_user_id;

-- Content use: one row per day, partner, content and link campaign ('' partner: unattributed).
CREATE VIEW IF NOT EXISTS {db}.bi_content_use_daily AS
SELECT
    tenant, day, partner_id, content_type, content_id, campaign_id,
    uniqMerge(events) AS events,
    uniqMerge(sessions) AS sessions,
    uniqMerge(viewers) AS viewers
FROM {db}.partner_content_daily
GROUP BY tenant, day, partner_id, content_type, content_id, campaign_id;

-- Deals per partner, for joining use with outcomes.
CREATE VIEW IF NOT EXISTS {db}.bi_partner_deals AS
SELECT
    tenant, partner_id,
    countIf(stage = 'won') AS won_deals,
    sumIf(amount, stage = 'won') AS won_amount,
    count() AS deals,
    sum(amount) AS total_amount
FROM {db}.deals FINAL
GROUP BY tenant, partner_id;
