-- Lane.lastEventId follows the newest event of its lane, kept by the database itself, so that
-- appending an event is one INSERT (server/events/event-log.ts) instead of an INSERT and an
-- UPDATE in two transactions. Prisma's schema language has no triggers; this one is SQL only.
CREATE TRIGGER "LaneEvent_lastEventId" AFTER INSERT ON "LaneEvent"
WHEN NEW."laneId" IS NOT NULL
BEGIN
    UPDATE "Lane" SET "lastEventId" = NEW."id" WHERE "id" = NEW."laneId";
END;
