-- Batch ranges the ingester cut before their natural end (a multiple of -ingest.batchRows),
-- written BEFORE the batch is inserted so that an ingester taking over the partition after
-- a crash rebuilds exactly the same batch and its insert_deduplication_token matches.
-- Rows are tiny and only needed until the range is committed; the TTL keeps it small.
CREATE TABLE IF NOT EXISTS `{db}`.ingest_cuts
(
    topic         String,
    partition     Int32,
    start_offset  Int64,
    end_offset    Int64,
    recorded_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (topic, partition, start_offset)
TTL toDateTime(recorded_at) + INTERVAL 30 DAY
