-- Per campaign, partners ranked by the share of the campaign's content they consumed.
-- A campaign's content is every content whose contents.campaign_id is the campaign, plus
-- every content the campaign's tracked links point at; a partner consumed a content when
-- any of its people (or devices carrying its token) produced a non-bot event on it in the
-- period, through any link. Every partner of the tenant is ranked, with 0 when it consumed
-- nothing. Reads campaign_links and content_partner_blocks (only the campaign's contents:
-- a row per content, partner and 256-day block, with a mask of the days it was used).
-- @param tenant
-- @param campaign = : a campaign_id; empty for every campaign
-- @param from = 1970-01-01: first day (UTC)
-- @param to = 2100-01-01: last day (UTC), inclusive
WITH
toUInt16(toDate({from:String})) AS f_day,
toUInt16(toDate({to:String})) AS t_day,
campaign_set AS
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
),
sizes AS
(
    SELECT campaign_id, count() AS campaign_contents FROM campaign_set GROUP BY campaign_id
),
used AS
(
    -- a (content, partner) was used in the period when a day mask of a block the period
    -- touches has a bit in the period
    SELECT DISTINCT partner_id, content_id FROM {db}.content_partner_blocks
    WHERE tenant = {tenant:String}
      AND content_id IN (SELECT content_id FROM campaign_set)
      AND block BETWEEN intDiv(f_day, 256) AND intDiv(t_day, 256)
      AND bitAnd(days,
              bitAnd(bitShiftLeft(bitNot(toUInt256(0)), toUInt16(greatest(f_day, block * 256) - block * 256)),
                     bitShiftRight(bitNot(toUInt256(0)), toUInt16(block * 256 + 255 - least(t_day, block * 256 + 255))))) != 0
),
consumed AS
(
    SELECT cc.campaign_id AS campaign_id, u.partner_id AS partner_id, count() AS consumed
    FROM used AS u
    INNER JOIN campaign_set AS cc ON cc.content_id = u.content_id
    GROUP BY campaign_id, partner_id
),
all_partners AS
(
    -- the partners in consumed are those in used (every used content is a campaign's);
    -- reading used spares a second join with campaign_set
    SELECT partner_id FROM {db}.partners FINAL WHERE tenant = {tenant:String}
    UNION DISTINCT SELECT partner_id FROM used
),
shares AS
(
    SELECT s.campaign_id AS campaign_id, ap.partner_id AS partner_id,
           ifNull(c.consumed, 0) AS consumed, s.campaign_contents AS campaign_contents,
           round(consumed / campaign_contents, 4) AS share
    FROM sizes AS s
    CROSS JOIN all_partners AS ap
    LEFT JOIN consumed AS c ON c.campaign_id = s.campaign_id AND c.partner_id = ap.partner_id
)
SELECT
    sh.campaign_id AS campaign_id,
    cm.name AS campaign_name,
    rank() OVER (PARTITION BY sh.campaign_id ORDER BY sh.consumed DESC) AS rank,
    sh.partner_id AS partner_id,
    p.name AS partner_name,
    sh.consumed AS consumed,
    sh.campaign_contents AS campaign_contents,
    sh.share AS share
FROM shares AS sh
LEFT JOIN (SELECT campaign_id, name FROM {db}.campaigns FINAL WHERE tenant = {tenant:String}) AS cm ON cm.campaign_id = sh.campaign_id
LEFT JOIN (SELECT partner_id, name FROM {db}.partners FINAL WHERE tenant = {tenant:String}) AS p ON p.partner_id = sh.partner_id
ORDER BY campaign_id, rank, partner_id
