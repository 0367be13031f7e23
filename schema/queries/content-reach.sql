-- Whom a content, or a campaign's contents, reached inside each partner. A row per partner
-- (partners table, and any partner a person is seen under): its known people
-- (partner_users), those of them who touched the content(s) in the period and those who did
-- not, other people of the partner (not in partner_users) who touched them, touches (days
-- of use, summed over contents and people), the person with the most touches and their
-- share, and rests_on_one_person: 1 when that share is at least one_person_share (so
-- always when a single person used it). A campaign's contents are those the contents table
-- gives it plus those its tracked links point at. A device's anonymous touches count as in
-- contact-timeline (stitching); use by no person (anonymous, unstitched) is not shown.
-- Reads content_viewer_blocks: a row per (content, viewer, 256-day block) with a mask of
-- the days used, for the people ('u:' viewers, one key range per content) and the
-- stitched devices.
-- @param tenant
-- @param content = : a content_id; or empty, with campaign set
-- @param campaign = : a campaign_id: every content of it; used when content is empty
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
-- @param lookback = 30: days before a device's first verified token whose anonymous touches count for that person
-- @param one_person_share = 0.8: the top person's share of the partner's touches from which use rests on one person
WITH
toUInt16(toDate({from:String})) AS f_day,
toUInt16(toDate({to:String})) AS t_day,
-- the contents asked
(
    SELECT groupUniqArray(content_id) FROM
    (
        SELECT {content:String} AS content_id WHERE {content:String} != ''
        UNION ALL
        SELECT content_id FROM {db}.contents FINAL
        WHERE tenant = {tenant:String} AND {content:String} = '' AND {campaign:String} != '' AND campaign_id = {campaign:String}
        UNION ALL
        SELECT toString(content_id) FROM {db}.campaign_links
        WHERE tenant = {tenant:String} AND {content:String} = '' AND {campaign:String} != '' AND campaign_id = {campaign:String}
    )
) AS cset,
-- stitching claims of every device: (viewer 'v:<device>', person, first day, last day), as
-- in contact-timeline, as day numbers: finished rows (stitch_claims, 0025)
(
    SELECT groupArray((viewer, person, toUInt16(lo), toUInt16(hi)))
    FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE anon_first_day <= hi
) AS claims,
-- the days a..b (day numbers) within 256-day block k, as a mask (shift amounts cast
-- unsigned: see 0009)
(k, a, b) -> if(greatest(a, k * 256) > least(b, k * 256 + 255), toUInt256(0),
    bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(a, k * 256) - k * 256)),
           bitShiftRight(bitNot(toUInt256(0)), toUInt16(k * 256 + 255 - least(b, k * 256 + 255))))) AS days_mask,
-- per person: touches (days of use of each content, summed) in the period, own and stitched
used AS
(
    SELECT person, sum(bitCount(m)) AS touches FROM
    (
        SELECT person, content_id, block, groupBitOr(d) AS m FROM
        (
            SELECT substring(viewer, 3) AS person, content_id, block, bitAnd(days, days_mask(block, f_day, t_day)) AS d
            FROM {db}.content_viewer_blocks
            WHERE tenant = {tenant:String} AND content_id IN (SELECT arrayJoin(cset)) AND startsWith(viewer, 'u:')
              AND block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
            UNION ALL
            SELECT cl.person, v.content_id, v.block, bitAnd(v.days, days_mask(v.block, greatest(f_day, cl.lo), least(t_day, cl.hi)))
            FROM {db}.content_viewer_blocks AS v
            INNER JOIN (SELECT c.1 AS viewer, c.2 AS person, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl ON cl.viewer = v.viewer
            WHERE v.tenant = {tenant:String} AND v.content_id IN (SELECT arrayJoin(cset))
              AND v.viewer IN (SELECT tupleElement(arrayJoin(claims), 1))
              AND v.block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
        )
        GROUP BY person, content_id, block
    )
    GROUP BY person
    HAVING touches > 0
),
-- per partner: its people (person, known, touches): a person belongs to its partner in
-- partner_users, else to the largest partner_id of its verified events
per_partner AS
(
    SELECT pp.partner AS partner, groupArray((pp.person, pp.known, u.touches)) AS ps
    FROM
    (
        SELECT person, argMax(partner, (prio, partner)) AS partner, max(prio) AS known FROM
        (
            SELECT partner_user_id AS person, partner_id AS partner, 1 AS prio
            FROM {db}.partner_users FINAL WHERE tenant = {tenant:String}
            UNION ALL
            SELECT partner_user_id, partner_id, 0 FROM {db}.visitor_people
            WHERE tenant = {tenant:String} AND partner_user_id != ''
        )
        GROUP BY person
    ) AS pp
    LEFT JOIN used AS u ON u.person = pp.person
    GROUP BY partner
)
SELECT
    partner_id,
    partner_name,
    toUInt64(length(arrayFilter(p -> p.2 = 1, ps))) AS people_known,
    toUInt64(length(opened)) AS people_reached,
    if(people_known > 0, round(people_reached / people_known, 4), NULL) AS reach,
    arraySort(arrayMap(p -> p.1, arrayFilter(p -> p.2 = 1 AND p.3 > 0, ps))) AS opened,
    arraySort(arrayMap(p -> p.1, arrayFilter(p -> p.2 = 1 AND p.3 = 0, ps))) AS not_opened,
    arraySort(arrayMap(p -> p.1, arrayFilter(p -> p.2 = 0 AND p.3 > 0, ps))) AS other_people,
    arraySum(arrayMap(p -> p.3, ps)) AS touches,
    if(touches > 0, arraySort(p -> (-p.3, p.1), ps)[1].1, '') AS top_person,
    if(touches > 0, round(arraySort(p -> (-p.3, p.1), ps)[1].3 / touches, 4), 0) AS top_share,
    toUInt8(touches > 0 AND top_share >= {one_person_share:Float64}) AS rests_on_one_person
FROM
(
    SELECT if(pa.partner_id != '', pa.partner_id, x.partner) AS partner_id, pa.name AS partner_name, x.ps AS ps
    FROM (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS pa
    FULL JOIN per_partner AS x ON x.partner = pa.partner_id
)
WHERE notEmpty(cset)
ORDER BY partner_id
