-- Full-text search over the ads (creative text and entity names).
--
-- FTS5 rows are keyed by an integer. ads_ads has a text key, and the implicit
-- rowid of such a table may be renumbered by VACUUM, so each ad gets a key of
-- its own here (an INTEGER PRIMARY KEY never changes). The index holds no
-- copy of the text (contentless) and is kept by triggers, so every writer of
-- ads_ads (filings, imports, corrections) keeps it current in its own
-- transaction. It is derived data: rebuilding it from ads_ads loses nothing.
-- The filing time is repeated here (it never changes) so that the ads with
-- a word are put in order without reading their rows.
CREATE TABLE ads_search_keys (
    key INTEGER PRIMARY KEY,
    ad_id TEXT NOT NULL UNIQUE,
    filed TEXT NOT NULL
);
-- Diacritics are kept, as PostgreSQL's 'simple' configuration keeps them.
CREATE VIRTUAL TABLE ads_words USING fts5(
    search_text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO ads_search_keys (ad_id, filed) SELECT id, filed_at FROM ads_ads ORDER BY filed_at, id;
INSERT INTO ads_words (rowid, search_text)
    SELECT k.key, a.search_text FROM ads_search_keys k JOIN ads_ads a ON a.id = k.ad_id;

CREATE TRIGGER ads_ads_words_insert AFTER INSERT ON ads_ads BEGIN
    INSERT INTO ads_search_keys (ad_id, filed) VALUES (new.id, new.filed_at);
    INSERT INTO ads_words (rowid, search_text)
        SELECT key, new.search_text FROM ads_search_keys WHERE ad_id = new.id;
END;
CREATE TRIGGER ads_ads_words_update AFTER UPDATE OF search_text ON ads_ads
WHEN old.search_text <> new.search_text BEGIN
    DELETE FROM ads_words WHERE rowid = (SELECT key FROM ads_search_keys WHERE ad_id = new.id);
    INSERT INTO ads_words (rowid, search_text)
        SELECT key, new.search_text FROM ads_search_keys WHERE ad_id = new.id;
END;

-- A sponsor's ads, or a sponsor's ads in one election, newest first, read
-- straight from the index (it replaces the sponsor-only index).
DROP INDEX ads_ads_sponsor;
CREATE INDEX ads_ads_sponsor ON ads_ads (sponsor_name, election_id, filed_at, id);

-- The newest-first walk of a filtered search checks these columns in the
-- index and reads an ad's row only when they all match.
DROP INDEX ads_ads_filed;
CREATE INDEX ads_ads_filed ON ads_ads (
    filed_at, id, status, spend_currency, spend_lower, spend_upper,
    countries, language, period_start, period_end, targeting_categories
);
