-- Only tile-level tree nodes (levels 8, 16, …) are kept, as tlog-tiles serves
-- them. Level 0 is the leaf hash of `tlog_leaves.entry` and every other node
-- is computed from the tile level below it when a proof needs it.
DELETE FROM tlog_nodes WHERE level % 8 <> 0 OR level = 0;

-- The frontier of the tree (its compact range: the hashes of
-- range_decomposition(0, size), concatenated), kept with the size so that an
-- append reads one row. Writers recompute it when it is missing.
ALTER TABLE tlog_head ADD COLUMN frontier BLOB;

-- Keep leaves and nodes in their key's order. `BIGINT PRIMARY KEY` made
-- SQLite keep a separate index, so reading in order cost a lookup per row.
CREATE TABLE tlog_leaves_by_index (
    idx INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    entry TEXT NOT NULL
);
INSERT INTO tlog_leaves_by_index (idx, kind, record_id, version, entry)
    SELECT idx, kind, record_id, version, entry FROM tlog_leaves;
DROP TABLE tlog_leaves;
ALTER TABLE tlog_leaves_by_index RENAME TO tlog_leaves;
CREATE UNIQUE INDEX tlog_leaves_record ON tlog_leaves(kind, record_id, version);

CREATE TABLE tlog_nodes_by_index (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
INSERT INTO tlog_nodes_by_index (level, idx, hash) SELECT level, idx, hash FROM tlog_nodes;
DROP TABLE tlog_nodes;
ALTER TABLE tlog_nodes_by_index RENAME TO tlog_nodes;
