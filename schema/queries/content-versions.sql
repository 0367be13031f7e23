-- Which versions of each content are in use, and which partners still use an outdated one.
-- A row per content and version (events that carried a content_version): its type, whether
-- it is the latest version (the one first seen last; a tie goes to the greater version
-- string), when it was first and last used, events, opens (view events), people or
-- devices, sessions, the partners that used it, and partners_outdated: for a version that is
-- not the latest, the partners whose last use of the content was on it (they still use an
-- outdated version), sorted. Anonymous use counts in the totals, never as a partner, unless
-- the device is stitched to a person (identity stitching, schema/README.md): a device's use
-- of a version counts as use by that person's partner (in partners and in its last use)
-- when all of it (first to last use of the version) lies on days of one claim. The totals
-- are of events and stay as they were: a stitched device is still one viewer beside its
-- person. Reads the content_version_use rollup (a row per content, version and partner:
-- its audience states merged once per content and version, its first and last uses
-- apart), the tenant's stitch_claims, and device_version_use (a row per content, version
-- and device, 0024) of the claimed devices only.
-- @param tenant
-- @param content = : a content_id; empty for every content
-- @param kind = : a content type (document, tool, page, ...); empty for every type
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
-- per content, version and partner: first and last use (no audience states: they are
-- merged once, per content and version, in totals)
u AS
(
    SELECT content_id, version, partner_id, min(first_at) AS first_at, max(last_at) AS last_at
    FROM {db}.content_version_use
    WHERE tenant = {tenant:String} AND ({content:String} = '' OR content_id = {content:String})
    GROUP BY content_id, version, partner_id
),
-- per content and version: type, first and last use, and the audience
totals AS
(
    SELECT content_id, version,
           max(content_type) AS content_type, min(first_at) AS first_at, max(last_at) AS last_at,
           uniqMerge(events) AS events, uniqMerge(opens) AS opens,
           uniqMerge(viewers) AS viewers, uniqMerge(sessions) AS sessions
    FROM {db}.content_version_use
    WHERE tenant = {tenant:String} AND ({content:String} = '' OR content_id = {content:String})
    GROUP BY content_id, version
),
-- the stitched devices' use of each version, under their person's partner: the claims
-- of the tenant (finished rows, 0025: a small read), read once, as a constant (viewer,
-- partner, lo, hi), then the rows of those devices only (an IN over the parameterized
-- view itself does not go to a cluster's shards)
(
    SELECT groupArray((viewer, partner_id, lo, hi)) FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
) AS claims,
stitched AS
(
    SELECT d.content_id AS content_id, d.version AS version, cl.partner_id AS partner_id,
           min(d.first_at) AS first_at, max(d.last_at) AS last_at
    FROM
    (
        SELECT content_id, version, viewer, min(first_at) AS first_at, max(last_at) AS last_at
        FROM {db}.device_version_use
        WHERE tenant = {tenant:String} AND ({content:String} = '' OR content_id = {content:String})
          AND viewer IN (SELECT tupleElement(arrayJoin(claims), 1))
        GROUP BY content_id, version, viewer
    ) AS d
    INNER JOIN (SELECT c.1 AS viewer, c.2 AS partner_id, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl
        ON cl.viewer = d.viewer
    WHERE toDate(d.first_at) >= cl.lo AND toDate(d.last_at) <= cl.hi
    GROUP BY content_id, version, partner_id
),
-- per content, version and partner: its first and last use, own and stitched
uses AS
(
    SELECT content_id, version, partner_id, min(first_at) AS first_at, max(last_at) AS last_at
    FROM
    (
        SELECT content_id, version, partner_id, first_at, last_at FROM u
        UNION ALL
        SELECT content_id, version, partner_id, first_at, last_at FROM stitched
    )
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
    FROM uses
    WHERE partner_id != ''
    GROUP BY content_id, partner_id
),
partners AS
(
    SELECT s.content_id AS content_id, s.version AS version,
           arraySort(groupArrayIf(s.partner_id, s.partner_id != '')) AS partners,
           arraySort(groupArrayIf(s.partner_id, s.partner_id != '' AND cur.current_version = s.version AND s.version != l.latest_version)) AS partners_outdated
    FROM uses AS s
    INNER JOIN latest AS l ON l.content_id = s.content_id
    LEFT JOIN current AS cur ON cur.content_id = s.content_id AND cur.partner_id = s.partner_id
    GROUP BY s.content_id, s.version
)
SELECT
    t.content_id AS content_id,
    c.title AS title,
    if(c.content_type != '', c.content_type, t.content_type) AS content_type,
    t.version AS version,
    t.version = l.latest_version AS latest,
    t.first_at AS first_used,
    t.last_at AS last_used,
    t.events AS events,
    t.opens AS opens,
    t.viewers AS viewers,
    t.sessions AS sessions,
    pa.partners AS partners,
    pa.partners_outdated AS partners_outdated
FROM totals AS t
INNER JOIN latest AS l ON l.content_id = t.content_id
LEFT JOIN partners AS pa ON pa.content_id = t.content_id AND pa.version = t.version
LEFT JOIN (SELECT content_id, title, content_type FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c ON c.content_id = t.content_id
WHERE {kind:String} = '' OR content_type = {kind:String}
ORDER BY content_id, first_used, version
