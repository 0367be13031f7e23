-- Wire v1 additions (issue 15): search events, content versions, test scores. The raw
-- table grows by columns added at its end (the event contract, beacon/event, lists them in
-- this order); rows written before keep the defaults: no version, no search, no score.
--   content_version  any event: the version of the content it is about ('' = not sent)
--   search_query     search: the text as stored (words that look like an e-mail address or
--                    a token replaced by [email] / [token], cut to 256 bytes; WIRE.md)
--   search_results   search: how many results were shown (0: the search found nothing)
--   search_clicked   search: the content_id of the result opened from it ('' = none)
--   search_flags     search: 1 = the text was cut, 2 = a word was redacted
--   score, passed    complete: a test's score 0..100 and pass (NULL when not sent)
ALTER TABLE {db}.events
    ADD COLUMN IF NOT EXISTS content_version LowCardinality(String),
    ADD COLUMN IF NOT EXISTS search_query    String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS search_results  UInt32,
    ADD COLUMN IF NOT EXISTS search_clicked  String,
    ADD COLUMN IF NOT EXISTS search_flags    UInt8,
    ADD COLUMN IF NOT EXISTS score           Nullable(Float32),
    ADD COLUMN IF NOT EXISTS passed          Nullable(UInt8);
