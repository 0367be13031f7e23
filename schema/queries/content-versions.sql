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
-- person. Reads content_version_rows (the finished totals of each version, which the
-- ingest recomputes after each batch, 0026; `beacon refresh` after writes that bypass
-- the ingest), content_version_use (a row per content, version and partner: first and last use),
-- the tenant's stitch_claims, and device_versions (a row per device, content and version,
-- 0026) of the claimed devices only, each once.
-- @param tenant
-- @param content = : a content_id; empty for every content
-- @param kind = : a content type (document, tool, page, ...); empty for every type
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
-- the claims of the tenant (finished rows, 0025: a small read), read once, as a constant
-- (viewer, partner, lo, hi) (an IN over the parameterized view itself does not go to a
-- cluster's shards)
(
    SELECT groupArray((viewer, partner_id, lo, hi)) FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
) AS claims,
-- per content and partner: the versions it used and its current one (the version of its
-- last use; a tie goes to the greater version string), counting its own use (the rollup's
-- rows as stored: a version in two parts is counted once, its latest use is the same
-- greatest) and its stitched devices' (a device's use of a version when all of it lies on
-- days of one claim)
per_partner AS
(
    SELECT content_id, partner_id,
           -- (last use, version) of each row: the greatest is the current version (a tuple
           -- argMax here costs more than the rest of the grouping; schema/README.md)
           groupArray((last_at, version)) AS used,
           arraySort(used)[-1].2 AS current,
           arrayDistinct(arrayMap(x -> x.2, used)) AS versions
    FROM
    (
        SELECT content_id, version, partner_id, last_at
        FROM {db}.content_version_use
        WHERE tenant = {tenant:String} AND ({content:String} = '' OR content_id = {content:String}) AND partner_id != ''
        UNION ALL
        SELECT d.content_id AS content_id, d.version AS version, cl.partner_id AS partner_id, d.last_at AS last_at
        FROM
        (
            SELECT viewer, content_id, version, first_at, last_at
            FROM {db}.device_versions FINAL
            WHERE tenant = {tenant:String} AND viewer IN (SELECT tupleElement(arrayJoin(claims), 1))
              AND ({content:String} = '' OR content_id = {content:String})
        ) AS d
        INNER JOIN (SELECT c.1 AS viewer, c.2 AS partner_id, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl
            ON cl.viewer = d.viewer
        WHERE toDate(d.first_at) >= cl.lo AND toDate(d.last_at) <= cl.hi AND cl.partner_id != ''
    )
    GROUP BY content_id, partner_id
),
-- per content and version: the partners that used it, and those whose current version it is
partners AS
(
    SELECT content_id, version,
           arraySort(groupArray(partner_id)) AS partners,
           arraySort(groupArrayIf(partner_id, version = current)) AS partners_current
    FROM per_partner
    ARRAY JOIN versions AS version
    GROUP BY content_id, version
),
-- per content and version: type, first and last use, the audience, and whether it is the
-- latest (first seen last; a tie goes to the greater version string)
totals AS
(
    SELECT content_id, version, content_type, first_at, last_at, events, opens, viewers, sessions,
           version = argMax(version, (first_at, version)) OVER (PARTITION BY content_id) AS latest
    FROM {db}.content_version_rows FINAL
    WHERE tenant = {tenant:String} AND ({content:String} = '' OR content_id = {content:String})
)
SELECT
    t.content_id AS content_id,
    c.title AS title,
    if(c.content_type != '', c.content_type, t.content_type) AS content_type,
    t.version AS version,
    t.latest AS latest,
    t.first_at AS first_used,
    t.last_at AS last_used,
    t.events AS events,
    t.opens AS opens,
    t.viewers AS viewers,
    t.sessions AS sessions,
    pa.partners AS partners,
    if(t.latest, [], pa.partners_current) AS partners_outdated
FROM totals AS t
LEFT JOIN partners AS pa ON pa.content_id = t.content_id AND pa.version = t.version
LEFT JOIN (SELECT content_id, title, content_type FROM {db}.contents FINAL WHERE tenant = {tenant:String}) AS c ON c.content_id = t.content_id
WHERE {kind:String} = '' OR content_type = {kind:String}
ORDER BY content_id, first_used, version
