-- +goose Up
-- The webhook hook (EnqueueEventDeliveries) runs before every write transaction
-- commits and looks up the events that transaction wrote by xid. 0030 dropped the
-- (xid, id) index when streams stopped paging by xid, which left that lookup a scan
-- of the whole events table on every write: 16 ms at 200,000 events, growing with
-- the retention window. This index makes it a probe again.
CREATE INDEX events_xid_idx ON events (xid);

-- +goose Down
DROP INDEX events_xid_idx;
