-- AlterTable
ALTER TABLE "Lane" ADD COLUMN "nodeId" TEXT;

-- AlterTable
ALTER TABLE "Process" ADD COLUMN "nodeId" TEXT;

-- CreateTable
CREATE TABLE "Node" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "instance" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "dataDir" TEXT NOT NULL,
    "url" TEXT,
    "capacity" INTEGER NOT NULL,
    "repos" TEXT,
    "engines" TEXT,
    "schemaVersion" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "leaseMs" INTEGER NOT NULL,
    "clockSkewMs" INTEGER NOT NULL DEFAULT 0,
    "startedAt" DATETIME NOT NULL,
    "heartbeatAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "Lane_nodeId_state_idx" ON "Lane"("nodeId", "state");

-- CreateIndex
CREATE INDEX "Process_nodeId_status_idx" ON "Process"("nodeId", "status");
