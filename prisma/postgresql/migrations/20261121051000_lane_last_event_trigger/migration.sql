-- Lane.lastEventId follows the newest event of its lane, kept by the database itself, so that
-- appending an event is one INSERT (server/store/sql/postgresql.ts) instead of an INSERT and an
-- UPDATE in two transactions. Prisma's schema language has no triggers; this one is SQL only
-- (the PostgreSQL twin of the SQLite migration of the same name).
CREATE FUNCTION "LaneEvent_lastEventId"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "Lane" SET "lastEventId" = NEW."id" WHERE "id" = NEW."laneId";
    RETURN NULL;
END;
$$;

CREATE TRIGGER "LaneEvent_lastEventId" AFTER INSERT ON "LaneEvent"
FOR EACH ROW WHEN (NEW."laneId" IS NOT NULL)
EXECUTE FUNCTION "LaneEvent_lastEventId"();
