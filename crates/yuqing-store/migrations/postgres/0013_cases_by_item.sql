-- The cases of an item (its page lists them, closed ones too): the partial unique index
-- covers open cases only, so every item page scanned the whole table (153,000 cases in
-- a store of 1,000,000 items: 12 ms a page).
CREATE INDEX cases_item ON cases (item_id, id);
