-- Only tile-level tree nodes (levels 8, 16, …) are kept, as tlog-tiles serves
-- them. Level 0 is the leaf hash of `tlog_leaves.entry` and every other node
-- is computed from the tile level below it when a proof needs it.
DELETE FROM tlog_nodes WHERE level % 8 <> 0 OR level = 0;

-- The frontier of the tree (its compact range: the hashes of
-- range_decomposition(0, size), concatenated), kept with the size so that an
-- append reads one row. Writers recompute it when it is missing.
ALTER TABLE tlog_head ADD COLUMN frontier BYTEA;
