-- A campaign's content is what the CRM says plus what the campaign's tracked links point
-- at, and content-outcomes measures use in days; both now read one small row per
-- (content, partner) of the contents they ask about (see README, "Query cost"). Same
-- pattern as 0005: create the target and its view, backfill, then drop what it replaces.

-- Which contents each campaign's tracked links (`beacon link`, opened through /l/) point
-- at: the content of the link's click event. Replaces campaign_contents, which took every
-- content that any event carrying the campaign's token was about, so a person who came
-- through a campaign's link and then browsed made everything they browsed the campaign's
-- content (on the query benchmark's data, every content of the site).
-- shard by: cityHash64(tenant, campaign_id)
CREATE TABLE IF NOT EXISTS {db}.campaign_links
(
    tenant      LowCardinality(String),
    campaign_id LowCardinality(String),
    content_id  LowCardinality(String),
    first_seen  SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, campaign_id, content_id)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.campaign_links_mv TO {db}.campaign_links AS
SELECT tenant, campaign_id, content_id, min(event_time) AS first_seen
FROM {db}.events
WHERE is_bot = 0 AND type = 'click' AND action = 'tracked' AND campaign_id != '' AND content_id != ''
GROUP BY tenant, campaign_id, content_id;

BACKFILL {db}.campaign_links;

DROP VIEW IF EXISTS {db}.campaign_contents_mv;

DROP TABLE IF EXISTS {db}.campaign_contents;

-- The content types events report for each content: content-outcomes finds FAQ and tool
-- contents here as well as in the contents table, so it works before the CRM export is
-- imported. A few rows per content.
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.content_kinds
(
    tenant       LowCardinality(String),
    content_type LowCardinality(String),
    content_id   LowCardinality(String),
    first_seen   SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, content_type, content_id)
SETTINGS non_replicated_deduplication_window = {dedup_window};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.content_kinds_mv TO {db}.content_kinds AS
SELECT tenant, content_type, content_id, min(event_time) AS first_seen, max(event_time) AS last_seen
FROM {db}.events
WHERE is_bot = 0 AND content_id != ''
GROUP BY tenant, content_type, content_id;

BACKFILL {db}.content_kinds;
