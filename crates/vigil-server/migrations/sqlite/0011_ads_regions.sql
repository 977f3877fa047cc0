-- The regions an ad was disseminated in, for the search's region filter:
-- read from the ad's content (a JSON array), never written by hand.
ALTER TABLE ads_ads ADD COLUMN regions TEXT GENERATED ALWAYS AS (json_extract(content, '$.regions')) VIRTUAL;
