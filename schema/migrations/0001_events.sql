-- Raw beacon events: one row per normalized event, exactly the keys of the Kafka message
-- (JSONEachRow-compatible). Ordered for per-tenant, per-content questions; partitioned by
-- month so TTL drops whole parts. non_replicated_deduplication_window makes the ingest's
-- insert_deduplication_token effective on a plain MergeTree (the cluster flavor uses
-- ReplicatedMergeTree's own window). The cluster flavor shards by viewer so that each
-- person's events, and so their per-viewer rollup rows, live on one shard.
-- shard by: cityHash64(tenant, if(partner_user_id != '', partner_user_id, visitor_id))
CREATE TABLE IF NOT EXISTS {db}.events
(
    event_id        UUID,
    tenant          LowCardinality(String),
    site_key        LowCardinality(String),
    received_at     DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    event_time      DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    client_time     DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    type            LowCardinality(String),
    visitor_id      String,
    session_id      String,
    partner_id      LowCardinality(String),
    partner_user_id String,
    campaign_id     LowCardinality(String),
    attribution     LowCardinality(String),
    content_id      LowCardinality(String),
    content_type    LowCardinality(String),
    content_title   String CODEC(ZSTD(1)),
    url             String CODEC(ZSTD(1)),
    referrer        String CODEC(ZSTD(1)),
    page            UInt32,
    page_count      UInt32,
    dwell_ms        UInt32,
    scroll_depth    UInt8,
    engaged_ms      UInt32,
    action          LowCardinality(String),
    position        Float32,
    duration        Float32,
    rate            Float32,
    watched_start   Array(Float32),
    watched_end     Array(Float32),
    target_url      String CODEC(ZSTD(1)),
    name            LowCardinality(String),
    props           Map(String, String),
    device          LowCardinality(String),
    is_bot          UInt8,
    bot_reason      LowCardinality(String),
    ip_prefix       String,
    user_agent      String CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (tenant, content_id, type, event_time, visitor_id)
TTL toDateTime(event_time) + INTERVAL {ttl_days} DAY
SETTINGS non_replicated_deduplication_window = {dedup_window}, index_granularity = 8192;
