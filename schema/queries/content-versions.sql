-- Which versions of each content are in use, and which partners still use an outdated one.
-- A row per content and version (events that carried a content_version): its type, whether
-- it is the latest version (the one first seen last; a tie goes to the greater version
-- string), when it was first and last used, events, opens (view events), people or
-- devices, sessions, the partners that used it, and partners_outdated: for a version that is
-- not the latest, the partners whose last use of the content was on it (they still use an
-- outdated version), sorted. Anonymous use counts in the totals, never as a partner.
-- Reads the content_version_use rollup (a row per content, version and partner).
-- @param tenant
-- @param content = : a content_id; empty for every content
-- @param kind = : a content type (document, tool, page, ...); empty for every type
WITH
u AS
(
    SELECT content_id, version, partner_id,
           max(content_type) AS content_type, min(first_at) AS first_at, max(last_at) AS last_at,
           uniqMergeState(events) AS events, uniqMergeState(opens) AS opens,
           uniqMergeState(viewers) AS viewers, uniqMergeState(sessions) AS sessions
    FROM {db}.content_version_use
    WHERE tenant = {tenant:String} AND ({content:String} = '' OR content_id = {content:String})
    GROUP BY content_id, version, partner_id
),
latest AS
(
    SELECT content_id, argMax(version, (first_at, version)) AS latest_version
    FROM (SELECT content_id, version, min(first_at) AS first_at FROM u GROUP BY content_id, version)
    GROUP BY content_id
),
current AS
(
    SELECT content_id, partner_id, argMax(version, (last_at, version)) AS current_version
    FROM u
    WHERE partner_id != ''
    GROUP BY content_id, partner_id
)
SELECT
    u.content_id AS content_id,
    any(c.title) AS title,
    if(any(c.content_type) != '', any(c.content_type), max(u.content_type)) AS content_type,
    u.version AS version,
    u.version = any(l.latest_version) AS latest,
    min(u.first_at) AS first_used,
    max(u.last_at) AS last_used,
    uniqMerge(u.events) AS events,
    uniqMerge(u.opens) AS opens,
    uniqMerge(u.viewers) AS viewers,
    uniqMerge(u.sessions) AS sessions,
    arraySort(groupArrayIf(u.partner_id, u.partner_id != '')) AS partners,
    arraySort(groupArrayIf(u.partner_id, u.partner_id != '' AND cur.current_version = u.version AND u.version != l.latest_version)) AS partners_outdated
FROM u
INNER JOIN latest AS l ON l.content_id = u.content_id
LEFT JOIN current AS cur ON cur.content_id = u.content_id AND cur.partner_id = u.partner_id
LEFT JOIN (SELECT content_id, title, content_type FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c ON c.content_id = u.content_id
GROUP BY u.content_id, u.version
HAVING {kind:String} = '' OR content_type = {kind:String}
ORDER BY content_id, first_used, version
