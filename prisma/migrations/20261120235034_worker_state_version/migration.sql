-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Worker" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "laneId" TEXT NOT NULL,
    "engine" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "stateVersion" INTEGER NOT NULL DEFAULT 0,
    "attempt" INTEGER NOT NULL,
    "processId" TEXT,
    "sessionId" TEXT,
    "prompt" TEXT,
    "promptDeliveries" INTEGER NOT NULL DEFAULT 0,
    "usage" TEXT,
    "lastError" TEXT,
    "readyAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "endedAt" DATETIME,
    CONSTRAINT "Worker_laneId_fkey" FOREIGN KEY ("laneId") REFERENCES "Lane" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Worker" ("attempt", "createdAt", "endedAt", "engine", "id", "laneId", "processId", "state", "updatedAt") SELECT "attempt", "createdAt", "endedAt", "engine", "id", "laneId", "processId", "state", "updatedAt" FROM "Worker";
DROP TABLE "Worker";
ALTER TABLE "new_Worker" RENAME TO "Worker";
CREATE UNIQUE INDEX "Worker_processId_key" ON "Worker"("processId");
CREATE INDEX "Worker_laneId_idx" ON "Worker"("laneId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
