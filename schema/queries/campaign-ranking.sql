-- Per campaign, partners ranked by the share of the campaign's content they consumed.
-- A campaign's content is every content whose contents.campaign_id is the campaign, plus
-- every content the campaign's tracked links point at. A partner consumed a content when
-- any of its people (or devices carrying its token) engaged with it in the period, through
-- any link; by default (use = engaged) that takes at least one non-bot event of: a page
-- view engaged (visible and focused) for 10 s (`engage` with engaged_ms >= 10000), a
-- document page visible 10 s in one report (`page` with dwell_ms >= 10000), a video play
-- (`video` with action play or watched ranges), or a completion (`complete`). A tracked-link
-- click alone, or a view nobody stayed on, does not count. With use = any, any non-bot
-- event counts, the click included (the definition before migration 0015). Every partner
-- of the tenant is ranked, with 0 when it consumed nothing. A device's use without a
-- token counts for the partner of the person it is stitched to on that day (identity
-- stitching, schema/README.md). Reads campaign_links and content_partner_blocks (only the
-- campaign's contents: a row per content, partner and 256-day block, with masks of the
-- days it was used and used engaged), and for stitched devices stitch_claims and
-- device_blocks (the same masks per anonymous device, keyed by device: 0021, 0030).
-- @param tenant
-- @param campaign = : a campaign_id; empty for every campaign
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
-- @param use = engaged: what counts as consuming a content: engaged (10 s engaged or on a page, a video play, a completion) or any (any event, a link click alone included)
-- @param lookback = 30: days before a device's first verified token whose anonymous use counts for that person
WITH
toUInt16(toDate({from:String})) AS f_day,
toUInt16(toDate({to:String})) AS t_day,
-- the period's days within a 256-day block (shift amounts cast unsigned: see 0009)
bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(f_day, block * 256) - block * 256)),
       bitShiftRight(bitNot(toUInt256(0)), toUInt16(block * 256 + 255 - least(t_day, block * 256 + 255)))) AS period_mask,
-- the days a..b (day numbers) within 256-day block k, as a mask
(k, a, b) -> if(greatest(a, k * 256) > least(b, k * 256 + 255), toUInt256(0),
    bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(a, k * 256) - k * 256)),
           bitShiftRight(bitNot(toUInt256(0)), toUInt16(k * 256 + 255 - least(b, k * 256 + 255))))) AS days_mask,
-- (campaign, content) pairs, computed once: a CTE is evaluated again wherever it is named,
-- a scalar is not. Scalars stay small (a few thousand elements): ClickHouse analyzes the
-- rest of the query with the value inlined, which cost 30 ms for 80,000 elements.
(
    SELECT groupArray((campaign_id, content_id)) FROM
    (
        SELECT DISTINCT campaign_id, content_id FROM
        (
            SELECT campaign_id, content_id FROM {db}.contents FINAL
            WHERE tenant = {tenant:String} AND campaign_id != ''
              AND ({campaign:String} = '' OR campaign_id = {campaign:String})
            UNION ALL
            SELECT campaign_id, content_id FROM {db}.campaign_links
            WHERE tenant = {tenant:String}
              AND ({campaign:String} = '' OR campaign_id = {campaign:String})
        )
    )
) AS cset,
-- the stitching claims of the tenant's devices (finished rows, 0025: a small read), read
-- once, as a constant: (device, partner, lo, hi); an IN over the parameterized view
-- itself does not go to a cluster's shards
(
    SELECT groupArray((visitor_id, partner_id, lo, hi)) FROM {db}.stitch_claims(tenant = {tenant:String}, lookback = {lookback:UInt16})
    WHERE partner_id != ''
) AS claims,
-- per partner, how many of each campaign's contents it used in the period: (campaign,
-- count) pairs; named once
consumed AS
(
    SELECT partner_id, groupArray((campaign_id, n)) AS got FROM
    (
        SELECT cc.campaign_id AS campaign_id, u.partner_id AS partner_id, count() AS n
        FROM
        (
            -- a (content, partner) was used in the period when a day mask of a block the
            -- period touches has a bit in the period
            SELECT DISTINCT partner_id, content_id FROM
            (
                SELECT partner_id, content_id FROM {db}.content_partner_blocks
                WHERE tenant = {tenant:String}
                  AND content_id IN (SELECT tupleElement(arrayJoin(cset), 2))
                  AND block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
                  AND bitAnd(if({use:String} = 'any', days, engaged_days), period_mask) != 0
                  AND throwIf({use:String} NOT IN ('engaged', 'any'), 'parameter use must be engaged or any') = 0
                UNION ALL
                -- a stitched device's days of the period its claim covers, for its
                -- person's partner
                SELECT cl.partner_id, toString(b.content_id) FROM {db}.device_blocks AS b
                INNER JOIN (SELECT c.1 AS visitor_id, c.2 AS partner_id, c.3 AS lo, c.4 AS hi FROM (SELECT arrayJoin(claims) AS c)) AS cl
                    ON cl.visitor_id = b.visitor_id
                WHERE b.tenant = {tenant:String}
                  AND b.content_id IN (SELECT tupleElement(arrayJoin(cset), 2))
                  AND b.visitor_id IN (SELECT tupleElement(arrayJoin(claims), 1))
                  AND b.block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
                  AND bitAnd(if({use:String} = 'any', b.days, b.engaged_days), days_mask(b.block, greatest(f_day, toUInt16(cl.lo)), least(t_day, toUInt16(cl.hi)))) != 0
            )
        ) AS u
        INNER JOIN (SELECT t.1 AS campaign_id, t.2 AS content_id FROM (SELECT arrayJoin(cset) AS t)) AS cc ON cc.content_id = u.content_id
        GROUP BY campaign_id, partner_id
    )
    GROUP BY partner_id
),
-- every partner (the partners table, and any that used a campaign content without being
-- in it) in every campaign
shares AS
(
    SELECT
        c.1 AS campaign_id,
        c.2 AS campaign_contents,
        if(p.partner_id = '', u.partner_id, p.partner_id) AS partner_id,
        p.name AS partner_name,
        arrayFirst(g -> g.1 = campaign_id, u.got).2 AS consumed
    FROM (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p
    FULL JOIN consumed AS u ON u.partner_id = p.partner_id
    ARRAY JOIN arrayMap(x -> (x, countEqual(arrayMap(t -> t.1, cset), x)), arrayDistinct(arrayMap(t -> t.1, cset))) AS c
)
SELECT
    sh.campaign_id AS campaign_id,
    cm.name AS campaign_name,
    rank() OVER (PARTITION BY sh.campaign_id ORDER BY sh.consumed DESC) AS rank,
    sh.partner_id AS partner_id,
    sh.partner_name AS partner_name,
    sh.consumed AS consumed,
    sh.campaign_contents AS campaign_contents,
    round(sh.consumed / sh.campaign_contents, 4) AS share
FROM shares AS sh
LEFT JOIN (SELECT campaign_id, name FROM {db}.campaigns FINAL WHERE tenant = {tenant:String}) AS cm ON cm.campaign_id = sh.campaign_id
ORDER BY campaign_id, rank, partner_id
