-- Dimension tables: what lives in the CRM/PRM, loaded by `beacon import <table> FILE.csv`.
-- ReplacingMergeTree keyed by the natural key with the import time as version, so
-- importing the same or a newer file again replaces rows instead of adding them; readers
-- use FINAL (the tables are small). The cluster flavor shards them by key like any table.

-- shard by: cityHash64(tenant, partner_id)
CREATE TABLE IF NOT EXISTS {db}.partners
(
    tenant      LowCardinality(String),
    partner_id  String,
    name        String,
    tier        LowCardinality(String),
    region      LowCardinality(String),
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant, partner_id);

-- shard by: cityHash64(tenant, partner_user_id)
CREATE TABLE IF NOT EXISTS {db}.partner_users
(
    tenant          LowCardinality(String),
    partner_user_id String,
    partner_id      String,
    name            String,
    email           String,
    role            LowCardinality(String),
    imported_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant, partner_user_id);

-- content_type: document | video | page | course | tool | faq | link (as in events).
-- duration_s for videos, page_count for documents, tags e.g. ['faq', 'training'].
-- shard by: cityHash64(tenant, content_id)
CREATE TABLE IF NOT EXISTS {db}.contents
(
    tenant       LowCardinality(String),
    content_id   String,
    content_type LowCardinality(String),
    title        String,
    campaign_id  String,
    duration_s   Float32,
    page_count   UInt32,
    tags         Array(LowCardinality(String)),
    imported_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant, content_id);

-- shard by: cityHash64(tenant, campaign_id)
CREATE TABLE IF NOT EXISTS {db}.campaigns
(
    tenant      LowCardinality(String),
    campaign_id String,
    name        String,
    starts_on   Date,
    ends_on     Date,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant, campaign_id);

-- course_id is the content_id of a content of type course.
-- shard by: cityHash64(tenant, partner_user_id)
CREATE TABLE IF NOT EXISTS {db}.course_assignments
(
    tenant          LowCardinality(String),
    course_id       String,
    partner_user_id String,
    partner_id      String,
    assigned_on     Date,
    due_on          Date,
    imported_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant, course_id, partner_user_id);

-- stage: the CRM's stage name; 'won' counts as an outcome.
-- shard by: cityHash64(tenant, deal_id)
CREATE TABLE IF NOT EXISTS {db}.deals
(
    tenant      LowCardinality(String),
    deal_id     String,
    partner_id  String,
    amount      Decimal(18, 2),
    currency    LowCardinality(String),
    stage       LowCardinality(String),
    closed_on   Date,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (tenant, deal_id);
