-- Full-text search over the ads (creative text and entity names): an index
-- of the words of search_text, with the 'simple' configuration (no stemming,
-- no stop words, diacritics kept: the ads are in every EU language).
CREATE INDEX ads_ads_words ON ads_ads USING GIN (to_tsvector('simple', search_text));

-- A sponsor's ads, or a sponsor's ads in one election, newest first, read
-- straight from the index (it replaces the sponsor-only index).
DROP INDEX ads_ads_sponsor;
CREATE INDEX ads_ads_sponsor ON ads_ads (sponsor_name, election_id, filed_at, id);
